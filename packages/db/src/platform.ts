import { defineEntity, p } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { Seeder } from '@mikro-orm/seeder';
import { checkIn, createdAt, timestamptz } from './entity.ts';
import { grantRequestAccess, revokeRequestAccess } from './grants.ts';
import { expireIdempotencyKeysJob } from './idempotency.ts';
import { type DomainModule, migrationList } from './module.ts';
import {
  APPLICATION_ROLE,
  createRoleSql,
  grantRoleSql,
  grantRoleToMigratorSql,
  IDEMPOTENCY_ROLE,
  READ_ONLY_ROLE,
} from './roles.ts';
import { deleteEndedSessionsJob } from './sessions.ts';

/** Extensions and roles every module may rely on. Runs before any module's migrations. */
export class Migration20261121000000PlatformBase extends Migration {
  override up(): void {
    this.addSql('create extension if not exists vector;');
    this.addSql(createRoleSql(APPLICATION_ROLE));
  }

  // Roles are cluster-wide and may serve other databases on the same server, so down leaves the role.
  override down(): void {
    this.addSql('drop extension if exists vector;');
  }
}

const JOB_RUN_PRIVILEGES = { job_runs: ['select'] } as const;

/**
 * The reporting role, and membership of both roles for the role that migrates: a non-superuser owner (as on
 * managed PostgreSQL) may then `SET ROLE` to them, which requests do. The schema `huddle` holds the record
 * of scheduled job runs, so a schedule runs once across every API process.
 */
export class Migration20261122000000PlatformRolesAndJobs extends Migration {
  override up(): void {
    this.addSql(createRoleSql(READ_ONLY_ROLE));
    this.addSql(grantRoleToMigratorSql(APPLICATION_ROLE));
    this.addSql(grantRoleToMigratorSql(READ_ONLY_ROLE));
    this.addSql('create schema if not exists "huddle";');
    this.addSql(
      `create table "huddle"."job_runs" ("module" text not null, "job" text not null, "scheduled_for" timestamptz not null, "started_at" timestamptz not null default current_timestamp, "rows" int not null, "summary" text not null, primary key ("module", "job", "scheduled_for"));`,
    );
    // Requests may read when jobs last ran; only jobs (as the owner) write it.
    for (const sql of grantRequestAccess(APPLICATION_ROLE, 'huddle', JOB_RUN_PRIVILEGES)) this.addSql(sql);
  }

  override down(): void {
    for (const sql of revokeRequestAccess(APPLICATION_ROLE, 'huddle', JOB_RUN_PRIVILEGES)) this.addSql(sql);
    this.addSql('drop table "huddle"."job_runs";');
  }
}

/**
 * The first result of every mutation sent with an `Idempotency-Key`, per actor and key, until it expires
 * (idempotency.ts). Requests write it in the mutation's own transaction; the platform's job deletes expired
 * rows. Every module's request role reaches it through the group role `huddle_request` (`createRequestRole`
 * makes each a member), and row-level security keeps each role to the rows it wrote: a stored result is a
 * module's answer, which another module's request must not read.
 */
export class Migration20261206000000PlatformIdempotencyKeys extends Migration {
  override up(): void {
    this.addSql(createRoleSql(IDEMPOTENCY_ROLE));
    this.addSql(grantRoleSql(IDEMPOTENCY_ROLE, APPLICATION_ROLE));
    this.addSql(
      `create table "huddle"."idempotency_keys" ("module" text not null, "subject" text not null, "key" text not null, "procedure" text not null, "input_hash" text not null, "result" json not null, "request_role" text not null default current_user, "created_at" timestamptz not null default current_timestamp, "expires_at" timestamptz not null, primary key ("module", "subject", "key"));`,
    );
    this.addSql(
      'create index "idempotency_keys_expires_at_index" on "huddle"."idempotency_keys" ("expires_at");',
    );
    this.addSql(`grant usage on schema "huddle" to "${IDEMPOTENCY_ROLE}";`);
    this.addSql(`grant select, insert, update on "huddle"."idempotency_keys" to "${IDEMPOTENCY_ROLE}";`);
    this.addSql('alter table "huddle"."idempotency_keys" enable row level security;');
    this.addSql(
      `create policy "idempotency_keys_own_role" on "huddle"."idempotency_keys" for all to "${IDEMPOTENCY_ROLE}" using ("request_role" = current_user) with check ("request_role" = current_user);`,
    );
  }

  // Dropping the table drops its grants and policy; the group role stays (other databases may use it).
  override down(): void {
    this.addSql('drop table "huddle"."idempotency_keys";');
    this.addSql(`revoke usage on schema "huddle" from "${IDEMPOTENCY_ROLE}";`);
  }
}

const SESSION_KINDS = ['session', 'key'] as const;

/**
 * Sessions and service keys (sessions.ts): one row per credential, checked by every request's first
 * statement. Requests may end their own module's credentials (a password change, a deactivation, a role
 * change revokes them in the service's own transaction): the group role `huddle_request` may read the
 * columns that find a row and set the two that end it, and row-level security keeps each request role to
 * its own module's rows (`request_role`). Everything else — opening, refreshing, listing — runs as the owner.
 */
export class Migration20261206120000PlatformSessions extends Migration {
  override up(): void {
    this.addSql(
      `create table "huddle"."sessions" ("id" uuid not null default gen_random_uuid(), "kind" text not null, "module" text not null, "subject" text not null, "request_role" text not null, "name" text null, "read_only" boolean not null default false, "refresh_hash" text null, "secret_hash" text null, "created_by" text null, "created_at" timestamptz not null default current_timestamp, "last_used_at" timestamptz not null default current_timestamp, "expires_at" timestamptz null, "revoked_at" timestamptz null, "revoked_reason" text null, "client_address" text null, "user_agent" text null, primary key ("id"));`,
    );
    this.addSql(
      'create index "sessions_module_subject_kind_created_at_index" on "huddle"."sessions" ("module", "subject", "kind", "created_at");',
    );
    this.addSql(
      `alter table "huddle"."sessions" add constraint "sessions_kind_check" check (kind in (${SESSION_KINDS.map((kind) => `'${kind}'`).join(', ')}));`,
    );
    this.addSql(
      `grant select ("id", "kind", "module", "subject", "request_role", "revoked_at"), update ("revoked_at", "revoked_reason") on "huddle"."sessions" to "${IDEMPOTENCY_ROLE}";`,
    );
    this.addSql('alter table "huddle"."sessions" enable row level security;');
    this.addSql(
      `create policy "sessions_own_role" on "huddle"."sessions" for all to "${IDEMPOTENCY_ROLE}" using ("request_role" = current_user) with check ("request_role" = current_user);`,
    );
  }

  override down(): void {
    this.addSql('drop table "huddle"."sessions";');
  }
}

/** huddle.job_runs: one row per (module, job, schedule slot) that ran; see `runJob`. */
const JobRunSchema = defineEntity({
  name: 'HuddleJobRun',
  tableName: 'job_runs',
  properties: {
    module: p.text().primary(),
    job: p.text().primary(),
    scheduledFor: timestamptz().primary(),
    startedAt: createdAt(),
    rows: p.integer(),
    summary: p.text(),
  },
});
export class JobRun extends JobRunSchema.class {}
JobRunSchema.setClass(JobRun);

/** huddle.idempotency_keys: a mutation's stored result for an actor's key; see `claimIdempotencyKey`. */
const IdempotencyKeySchema = defineEntity({
  name: 'HuddleIdempotencyKey',
  tableName: 'idempotency_keys',
  properties: {
    module: p.text().primary(),
    subject: p.text().primary(),
    key: p.text().primary(),
    procedure: p.text(),
    inputHash: p.text(),
    result: p.json().columnType('json'),
    requestRole: p.text().defaultRaw('current_user'),
    createdAt: createdAt(),
    expiresAt: timestamptz().index('idempotency_keys_expires_at_index'),
  },
  policies: [
    {
      name: 'idempotency_keys_own_role',
      command: 'all',
      roles: [IDEMPOTENCY_ROLE],
      using: '(request_role = (CURRENT_USER)::text)',
      check: '(request_role = (CURRENT_USER)::text)',
    },
  ],
});
export class IdempotencyKey extends IdempotencyKeySchema.class {}
IdempotencyKeySchema.setClass(IdempotencyKey);

/** huddle.sessions: a session or service key; see sessions.ts. */
const SessionSchema = defineEntity({
  name: 'HuddleSession',
  tableName: 'sessions',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    kind: p.text(),
    module: p.text(),
    subject: p.text(),
    requestRole: p.text(),
    name: p.text().nullable(),
    readOnly: p.boolean().default(false),
    refreshHash: p.text().nullable(),
    secretHash: p.text().nullable(),
    createdBy: p.text().nullable(),
    createdAt: createdAt(),
    lastUsedAt: createdAt(),
    expiresAt: timestamptz().nullable(),
    revokedAt: timestamptz().nullable(),
    revokedReason: p.text().nullable(),
    clientAddress: p.text().nullable(),
    userAgent: p.text().nullable(),
  },
  indexes: [
    {
      name: 'sessions_module_subject_kind_created_at_index',
      properties: ['module', 'subject', 'kind', 'createdAt'],
    },
  ],
  checks: [checkIn('sessions_kind_check', 'kind', SESSION_KINDS)],
  policies: [
    {
      name: 'sessions_own_role',
      command: 'all',
      roles: [IDEMPOTENCY_ROLE],
      using: '(request_role = (CURRENT_USER)::text)',
      check: '(request_role = (CURRENT_USER)::text)',
    },
  ],
});
export class Session extends SessionSchema.class {}
SessionSchema.setClass(Session);

class NoSeedData extends Seeder {
  run(): void {}
}

/**
 * `@huddle/db`'s own module: the platform migrations, the job-run record, the stored results of idempotent
 * mutations and the sessions and service keys (schema `huddle`), and the jobs that expire them.
 */
export const platformModule: DomainModule = {
  name: 'huddle',
  entities: [JobRun, IdempotencyKey, Session],
  migrations: migrationList(
    Migration20261121000000PlatformBase,
    Migration20261122000000PlatformRolesAndJobs,
    Migration20261206000000PlatformIdempotencyKeys,
    Migration20261206120000PlatformSessions,
  ),
  seeders: { minimal: NoSeedData },
  // Nothing requests the platform; its one grant (job_runs) is to `application_user`.
  requestRole: APPLICATION_ROLE,
  jobs: [expireIdempotencyKeysJob, deleteEndedSessionsJob],
};
