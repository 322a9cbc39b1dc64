import { Migration } from '@huddle/db';

/**
 * A proposal is not recorded twice in a project (issue 25: one transcript delivered under two delivery ids
 * proposed "Adopt Kafka" twice). A title's key is the title as compared: lower case, every run of
 * characters other than letters and digits one space, trimmed ("Adopt Kafka." and "adopt  kafka" are one;
 * PostgreSQL's regular-expression engine reads the one bracket expression without backtracking). The unique
 * index holds live proposals from transcripts to one per key and project; the plain one serves the ingest's
 * look-up of any live decision with that key. Proposals the old behaviour duplicated are soft-deleted, the
 * earliest of each kept, so the index can be built (they stay restorable once the first is decided).
 */
export class Migration20261206120000DecisionsProposalTitleKey extends Migration {
  override up(): void {
    this.addSql(
      `update "decisions"."decisions" d set "deleted_at" = now() where d."status" = 'proposed' and d."transcript_id" is not null and d."deleted_at" is null and exists (select 1 from "decisions"."decisions" e where e."project_id" = d."project_id" and e."status" = 'proposed' and e."transcript_id" is not null and e."deleted_at" is null and btrim(lower(regexp_replace(e."title", '[^[:alnum:]]+', ' ', 'g'))) = btrim(lower(regexp_replace(d."title", '[^[:alnum:]]+', ' ', 'g'))) and e."id" < d."id");`,
    );
    this.addSql(
      `create unique index "decisions_proposal_title_key_unique" on "decisions"."decisions" ("project_id", btrim(lower(regexp_replace("title", '[^[:alnum:]]+', ' ', 'g')))) where "status" = 'proposed' and "transcript_id" is not null and "deleted_at" is null;`,
    );
    this.addSql(
      `create index "idx_decisions_project_title_key" on "decisions"."decisions" ("project_id", btrim(lower(regexp_replace("title", '[^[:alnum:]]+', ' ', 'g')))) where "deleted_at" is null;`,
    );
  }

  override down(): void {
    this.addSql('drop index "decisions"."idx_decisions_project_title_key";');
    this.addSql('drop index "decisions"."decisions_proposal_title_key_unique";');
  }
}
