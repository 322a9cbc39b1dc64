import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { domainModules } from '@huddle/composition';
import {
  type Database,
  type DomainModule,
  type EntityManager,
  inRequestScope,
  type ModuleActor,
  type ModuleWithActors,
  migrateUp,
  openDatabase,
  READ_ONLY_ROLE,
  runAsActor,
} from '@huddle/db';
import { createOwnedTestDatabase, type TestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Least privilege between modules, proven by the database refusing: every module's request runs as that
 * module's role (scrum's is the seed's `application_user`), granted its own schema only, so a request of one
 * module cannot read another's tables; `read_only_user` reads everything but password hashes. The database
 * is owned by a non-superuser login (as on managed PostgreSQL), which migrates it and runs every request.
 */
const OWN_TABLE: Record<string, string> = {
  poker: 'poker.users',
  scrum: 'scrum.users',
  decisions: 'decisions.users',
  planner: 'planner.repositories',
};
const REQUEST_ROLE: Record<string, string> = {
  poker: 'huddle_poker_request',
  scrum: 'application_user',
  decisions: 'huddle_decisions_request',
  planner: 'huddle_planner_request',
};

function moduleNamed(name: string): ModuleWithActors<ModuleActor> {
  const module = domainModules.find((candidate) => candidate.name === name);
  if (!module?.actor) throw new Error(`no module ${name} with actors`);
  return module as DomainModule & ModuleWithActors<ModuleActor>;
}

/** One user per module, inserted as the owner; the subjects their tokens would carry. */
async function seedSubjects(db: Database): Promise<Record<string, string>> {
  return inRequestScope(db.orm, async (em: EntityManager) => {
    const [poker] = await em.execute<{ id: number }[]>(
      `insert into poker.users (name) values ('Pat') returning id`,
    );
    const [scrum] = await em.execute<{ id: number }[]>(
      `insert into scrum.users (github_id, username, role) values ('gh-1', 'sam', 'admin') returning id`,
    );
    const [decisions] = await em.execute<{ id: number }[]>(
      `insert into decisions.users (email, name, password_hash) values ('dee@example.com', 'Dee', '$2b$10$secret') returning id`,
    );
    await em.execute(`insert into planner.operators (name) values ('ops')`);
    return {
      poker: String(poker!.id),
      scrum: String(scrum!.id),
      decisions: String(decisions!.id),
      planner: 'ops',
    };
  });
}

/** Runs `sql` in a request of module `name` for its seeded user: the rows, or PostgreSQL's refusal. */
async function asModule(db: Database, subjects: Record<string, string>, name: string, sql: string) {
  const module = moduleNamed(name);
  try {
    return await runAsActor(db.orm, module, module.actor.parse(subjects[name]!), (em) => em.execute(sql));
  } catch (error) {
    return (error as Error).message;
  }
}

describe('request roles on PostgreSQL, as a non-superuser owner', () => {
  let owned: TestDatabase;
  let db: Database;
  let subjects: Record<string, string>;
  beforeAll(async () => {
    owned = await createOwnedTestDatabase();
    db = await openDatabase({
      modules: domainModules,
      target: { kind: 'postgresql', url: owned.url, poolMax: 4 },
    });
    await migrateUp(db);
    subjects = await seedSubjects(db);
  });
  afterAll(async () => {
    await db?.close();
    await owned?.drop();
  });

  it('each module’s request runs as its own role and reads its own tables', async () => {
    for (const name of Object.keys(OWN_TABLE)) {
      const rows = await asModule(
        db,
        subjects,
        name,
        `select current_user as role, (select count(*) from ${OWN_TABLE[name]}) >= 0 as reads`,
      );
      expect([name, rows]).toEqual([name, [{ role: REQUEST_ROLE[name], reads: true }]]);
    }
  });

  it('a request of one module cannot read another module’s tables: permission denied', async () => {
    for (const name of Object.keys(OWN_TABLE)) {
      for (const [other, table] of Object.entries(OWN_TABLE)) {
        if (other === name) continue;
        const refused = await asModule(db, subjects, name, `select * from ${table}`);
        expect([name, table, refused]).toEqual([
          name,
          table,
          `not allowed: permission denied for schema ${other}`,
        ]);
      }
    }
  });

  it('a scrum request cannot read decisions’ password hashes', async () => {
    expect(await asModule(db, subjects, 'scrum', 'select password_hash from decisions.users')).toBe(
      'not allowed: permission denied for schema decisions',
    );
  });

  it('read_only_user reads every module’s tables but no password hash', async () => {
    const asReadOnly = (sql: string) =>
      inRequestScope(db.orm, async (em) => {
        await em.execute(`select set_config('role', ?, true)`, [READ_ONLY_ROLE]);
        return em.execute(sql);
      }).catch((error: Error) => error.message);
    expect(await asReadOnly('select password_hash from decisions.users')).toBe(
      'not allowed: permission denied for table users',
    );
    expect(await asReadOnly('select * from decisions.users')).toBe(
      'not allowed: permission denied for table users',
    );
    expect(await asReadOnly('select id, email, name, role, deleted_at from decisions.users')).toEqual([
      {
        id: Number(subjects.decisions),
        email: 'dee@example.com',
        name: 'Dee',
        role: 'member',
        deleted_at: null,
      },
    ]);
    for (const table of Object.values(OWN_TABLE)) {
      expect([table, await asReadOnly(`select count(*)::int as rows from ${table}`)]).toEqual([
        table,
        [{ rows: table === 'planner.repositories' ? 0 : 1 }],
      ]);
    }
  });
});

describe('request roles on the embedded database', () => {
  let dataDir: string;
  let db: Database;
  let subjects: Record<string, string>;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-roles-pglite-'));
    // A copy of the migrated template, as `pnpm start` makes: initdb and the migrations are tested elsewhere.
    db = await openDatabase({
      modules: domainModules,
      target: { kind: 'pglite', dataDir },
      create: 'migrated',
    });
    subjects = await seedSubjects(db);
  });
  afterAll(async () => {
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a poker request cannot read decisions’ users, and a decisions request reads them', async () => {
    expect(await asModule(db, subjects, 'poker', 'select password_hash from decisions.users')).toBe(
      'not allowed: permission denied for schema decisions',
    );
    expect(await asModule(db, subjects, 'decisions', 'select email from decisions.users')).toEqual([
      { email: 'dee@example.com' },
    ]);
  });
});
