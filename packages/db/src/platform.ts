import { defineEntity, p } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { Seeder } from '@mikro-orm/seeder';
import { createdAt, timestamptz } from './entity.ts';
import { grantRequestAccess, revokeRequestAccess } from './grants.ts';
import { expireIdempotencyKeysJob } from './idempotency.ts';
import { type DomainModule, migrationList } from './module.ts';
import { APPLICATION_ROLE, READ_ONLY_ROLE } from './roles.ts';

const createRoleIfMissing = (role: string) =>
  `do $$ begin
     if not exists (select from pg_roles where rolname = '${role}') then
       create role ${role} nologin;
     end if;
   end $$;`;

/** Extensions and roles every module may rely on. Runs before any module's migrations. */
export class Migration20261121000000PlatformBase extends Migration {
  override up(): void {
    this.addSql('create extension if not exists vector;');
    this.addSql(createRoleIfMissing(APPLICATION_ROLE));
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
    this.addSql(createRoleIfMissing(READ_ONLY_ROLE));
    this.addSql(`grant ${APPLICATION_ROLE}, ${READ_ONLY_ROLE} to current_user;`);
    this.addSql('create schema if not exists "huddle";');
    this.addSql(
      `create table "huddle"."job_runs" ("module" text not null, "job" text not null, "scheduled_for" timestamptz not null, "started_at" timestamptz not null default current_timestamp, "rows" int not null, "summary" text not null, primary key ("module", "job", "scheduled_for"));`,
    );
    // Requests may read when jobs last ran; only jobs (as the owner) write it.
    for (const sql of grantRequestAccess('huddle', JOB_RUN_PRIVILEGES)) this.addSql(sql);
  }

  override down(): void {
    for (const sql of revokeRequestAccess('huddle', JOB_RUN_PRIVILEGES)) this.addSql(sql);
    this.addSql('drop table "huddle"."job_runs";');
  }
}

const IDEMPOTENCY_KEY_PRIVILEGES = { idempotency_keys: ['select', 'insert', 'update'] } as const;

/**
 * The first result of every mutation sent with an `Idempotency-Key`, per actor and key, until it expires
 * (idempotency.ts). Requests write it in the mutation's own transaction; the platform's job deletes expired
 * rows.
 */
export class Migration20261206000000PlatformIdempotencyKeys extends Migration {
  override up(): void {
    this.addSql(
      `create table "huddle"."idempotency_keys" ("module" text not null, "subject" text not null, "key" text not null, "procedure" text not null, "input_hash" text not null, "result" json not null, "created_at" timestamptz not null default current_timestamp, "expires_at" timestamptz not null, primary key ("module", "subject", "key"));`,
    );
    this.addSql(
      'create index "idempotency_keys_expires_at_index" on "huddle"."idempotency_keys" ("expires_at");',
    );
    for (const sql of grantRequestAccess('huddle', IDEMPOTENCY_KEY_PRIVILEGES)) this.addSql(sql);
  }

  // Dropping the table drops its grants; the schema's usage stays for job_runs.
  override down(): void {
    this.addSql('drop table "huddle"."idempotency_keys";');
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
    createdAt: createdAt(),
    expiresAt: timestamptz().index('idempotency_keys_expires_at_index'),
  },
});
export class IdempotencyKey extends IdempotencyKeySchema.class {}
IdempotencyKeySchema.setClass(IdempotencyKey);

class NoSeedData extends Seeder {
  run(): void {}
}

/**
 * `@huddle/db`'s own module: the platform migrations, the job-run record and the stored results of
 * idempotent mutations (schema `huddle`), and the job that expires them.
 */
export const platformModule: DomainModule = {
  name: 'huddle',
  entities: [JobRun, IdempotencyKey],
  migrations: migrationList(
    Migration20261121000000PlatformBase,
    Migration20261122000000PlatformRolesAndJobs,
    Migration20261206000000PlatformIdempotencyKeys,
  ),
  seeders: { minimal: NoSeedData },
  jobs: [expireIdempotencyKeysJob],
};
