import { APPLICATION_ROLE, grantRequestAccess, Migration } from '@huddle/db';

/** Admins read and create invitations; nothing else of a request's reaches these tables. */
const PRIVILEGES = { invitations: ['select', 'insert'] } as const;

/**
 * Closed sign-up and client-bound GitHub sign-ins (issue 20): `invitations` (who may join, with which role)
 * and `sign_in_flows` (a sign-in between its start and its callback, owner-only), both additive. Generated
 * by `migrationDiff` from the entities, then reviewed; grants as in Migration20261122200100ScrumRequestAccess.
 */
export class Migration20261206070000ScrumSignUp extends Migration {
  override up(): void {
    this.addSql(
      `create table "scrum"."invitations" ("id" serial primary key, "github_login" varchar(39) not null, "role" varchar(50) not null, "invited_by_id" int null, "created_at" timestamptz not null default current_timestamp, "accepted_at" timestamptz null, "user_id" int null);`,
    );
    this.addSql(
      `alter table "scrum"."invitations" add constraint "invitations_github_login_unique" unique ("github_login");`,
    );
    this.addSql(`create index "invitations_invited_by_id_index" on "scrum"."invitations" ("invited_by_id");`);
    this.addSql(
      `alter table "scrum"."invitations" add constraint "invitations_user_id_unique" unique ("user_id");`,
    );
    this.addSql(
      `alter table "scrum"."invitations" add constraint "invitations_invited_by_id_foreign" foreign key ("invited_by_id") references "scrum"."users" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "scrum"."invitations" add constraint "invitations_user_id_foreign" foreign key ("user_id") references "scrum"."users" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "scrum"."invitations" add constraint "invitations_role_check" check (role in ('developer', 'designer', 'tester', 'project_manager', 'admin'));`,
    );
    this.addSql(
      `alter table "scrum"."invitations" add constraint "invitations_github_login_check" check (github_login = lower(github_login));`,
    );
    this.addSql(
      `alter table "scrum"."invitations" add constraint "invitations_accepted_check" check ((accepted_at is null) = (user_id is null));`,
    );
    this.addSql(`alter table "scrum"."invitations" enable row level security;`);
    this.addSql(
      `create policy "invitations_select" on "scrum"."invitations" for select to "application_user" using ((select current_setting('app.user_role', true) as user_role) = 'admin');`,
    );
    this.addSql(
      `create policy "invitations_insert" on "scrum"."invitations" for insert to "application_user" with check ((select current_setting('app.user_role', true) as user_role) = 'admin' and invited_by_id = (select nullif(current_setting('app.user_id', true), '')::integer as user_id));`,
    );
    this.addSql(
      `create policy "invitations_read_only_select" on "scrum"."invitations" for select to "read_only_user" using (true);`,
    );
    for (const sql of grantRequestAccess(APPLICATION_ROLE, 'scrum', PRIVILEGES)) this.addSql(sql);
    // After the grants, whose `all sequences` must not reach this table's: no request inserts a flow.
    this.addSql(
      `create table "scrum"."sign_in_flows" ("id" serial primary key, "state_hash" varchar(64) not null, "client_hash" varchar(64) not null, "sealed_verifier" varchar(200) not null, "created_at" timestamptz not null default current_timestamp, "expires_at" timestamptz not null);`,
    );
    this.addSql(
      `alter table "scrum"."sign_in_flows" add constraint "sign_in_flows_state_hash_unique" unique ("state_hash");`,
    );
    this.addSql(`create index "sign_in_flows_expires_at_index" on "scrum"."sign_in_flows" ("expires_at");`);
    this.addSql(`alter table "scrum"."sign_in_flows" enable row level security;`);
  }

  override down(): void {
    this.addSql(`drop table if exists "scrum"."invitations" cascade;`);
    this.addSql(`drop table if exists "scrum"."sign_in_flows" cascade;`);
  }
}
