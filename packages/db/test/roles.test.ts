import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase, withClient } from '../../testing/src/index.ts';
import {
  createRequestRole,
  type DomainModule,
  grantRequestAccess,
  Migration,
  migrateUp,
  migrationList,
  openDatabase,
  runAnonymously,
  Seeder,
} from '../src/index.ts';

/**
 * Roles belong to the server, not to a database: several databases on one server migrating at once create
 * the same request role and grant the same membership at the same moment. The fixture holds its transaction
 * open after doing both, so the other migrations reach CREATE ROLE and GRANT while the first has not
 * committed (they wait for it, then find the role or the membership there).
 */
function raceModule(role: string): DomainModule {
  class Migration20261206000000RaceInitial extends Migration {
    override up(): void {
      for (const sql of createRequestRole(role)) this.addSql(sql);
      this.addSql('select pg_sleep(0.3);');
      this.addSql('create schema if not exists "fixture_race";');
      this.addSql('create table "fixture_race"."marks" ("id" serial primary key);');
      for (const sql of grantRequestAccess(role, 'fixture_race', { marks: ['select', 'insert'] }))
        this.addSql(sql);
    }
  }
  class NoMarks extends Seeder {
    run(): void {}
  }
  return {
    name: 'fixture_race',
    entities: [],
    migrations: migrationList(Migration20261206000000RaceInitial),
    requestRole: role,
    seeders: { minimal: NoMarks },
  };
}

const serverUrl = () => inject('huddle').serverUrl;
const roles: string[] = [];
const databases: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
  for (const role of roles) {
    await withClient(serverUrl(), (client) => client.query(`drop role if exists "${role}"`));
  }
});

describe('request roles on a server several databases share', () => {
  it.each([
    ['create the same new role', false],
    ['grant the same existing role', true],
  ])('four databases migrating at once %s, and their requests use it', async (_what, existing) => {
    const role = `fixture_race_${randomBytes(4).toString('hex')}`;
    roles.push(role);
    if (existing) await withClient(serverUrl(), (client) => client.query(`create role "${role}" nologin`));
    const module = raceModule(role);
    const batch: TestDatabase[] = [];
    for (let count = 0; count < 4; count++) batch.push(await createTestDatabase({ migrated: false }));
    databases.push(...batch);
    const opened = await Promise.all(
      batch.map((database) =>
        openDatabase({ modules: [module], target: { kind: 'postgresql', url: database.url, poolMax: 2 } }),
      ),
    );
    try {
      const results = await Promise.allSettled(opened.map((db) => migrateUp(db)));
      expect(results.map((result) => result.status)).toEqual(Array(4).fill('fulfilled'));
      for (const db of opened) {
        const [inside] = await runAnonymously(db.orm, module, (em) =>
          em.execute<{ role: string; marks: string }[]>(
            'select current_user as role, (select count(*) from fixture_race.marks) as marks',
          ),
        );
        expect(inside).toEqual({ role, marks: '0' });
      }
    } finally {
      await Promise.all(opened.map((db) => db.close()));
    }
  });
});
