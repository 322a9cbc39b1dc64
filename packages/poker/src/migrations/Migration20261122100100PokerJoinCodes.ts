import { Migration } from '@huddle/db';

/**
 * Beyond the seed: an unguessable join code per session (required to join; sequential ids are guessable).
 * The database default fills it for existing rows and for inserts written against the seed document.
 */
export class Migration20261122100100PokerJoinCodes extends Migration {
  override up(): void {
    this.addSql(
      `alter table "poker"."sessions" add "join_code" varchar(32) not null default replace(gen_random_uuid()::text, '-', '');`,
    );
    this.addSql(
      `alter table "poker"."sessions" add constraint "sessions_join_code_unique" unique ("join_code");`,
    );
  }

  override down(): void {
    this.addSql(`alter table "poker"."sessions" drop constraint "sessions_join_code_unique";`);
    this.addSql(`alter table "poker"."sessions" drop column "join_code";`);
  }
}
