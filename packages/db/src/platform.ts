import { defineEntity, p } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { Seeder } from '@mikro-orm/seeder';
import { createdAt, timestamptz } from './entity.ts';
import { grantRequestAccess, revokeRequestAccess } from './grants.ts';
import { type DomainModule, migrationList } from './module.ts';
import { APPLICATION_ROLE, createRoleSql, grantRoleToMigratorSql, READ_ONLY_ROLE } from './roles.ts';

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

class NoSeedData extends Seeder {
  run(): void {}
}

/** `@huddle/db`'s own module: the platform migrations and the job-run record (schema `huddle`). */
export const platformModule: DomainModule = {
  name: 'huddle',
  entities: [JobRun],
  migrations: migrationList(Migration20261121000000PlatformBase, Migration20261122000000PlatformRolesAndJobs),
  seeders: { minimal: NoSeedData },
  // Nothing requests the platform; its one grant (job_runs) is to `application_user`.
  requestRole: APPLICATION_ROLE,
};
