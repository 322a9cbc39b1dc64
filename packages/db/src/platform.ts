import { Migration } from '@mikro-orm/migrations';
import { Seeder } from '@mikro-orm/seeder';
import { type DomainModule, migrationList } from './module.ts';

/** The role row-level-security policies are written for; requests switch to it with `SET LOCAL ROLE`. */
export const APPLICATION_ROLE = 'application_user';

/** Extensions and roles every module may rely on. Runs before any module's migrations. */
export class Migration20261121000000PlatformBase extends Migration {
  override up(): void {
    this.addSql('create extension if not exists vector;');
    this.addSql(
      `do $$ begin
         if not exists (select from pg_roles where rolname = '${APPLICATION_ROLE}') then
           create role ${APPLICATION_ROLE} nologin;
         end if;
       end $$;`,
    );
  }

  // Roles are cluster-wide and may serve other databases on the same server, so down leaves the role.
  override down(): void {
    this.addSql('drop extension if exists vector;');
  }
}

class NoSeedData extends Seeder {
  run(): void {}
}

/** `@huddle/db`'s own module: no tables, only the platform migration (schema `huddle`). */
export const platformModule: DomainModule = {
  name: 'huddle',
  entities: [],
  migrations: migrationList(Migration20261121000000PlatformBase),
  seeders: { minimal: NoSeedData },
};
