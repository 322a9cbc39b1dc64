import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwnedTestDatabase, expectHuddleError, type TestDatabase } from '../../testing/src/index.ts';
import {
  type Database,
  type EntityManager,
  ForbiddenError,
  inRequestScope,
  migrateUp,
  openDatabase,
  runAnonymously,
  runAsActor,
  UnauthorizedError,
} from '../src/index.ts';
import { libraryModule } from './fixtures/library.ts';
import { NOTES_REQUEST_ROLE, type NotesActor, notesModule } from './fixtures/notes.ts';

/**
 * Least privilege and row-level security, proven by the database refusing: the database is owned by a
 * non-superuser login (as on managed PostgreSQL), which migrates it and runs every request through
 * `runAsActor`, so nothing here is allowed merely because the test connects as a superuser.
 */
let owned: TestDatabase;
let db: Database;
const ann: NotesActor = { module: 'fixture_notes', userId: 1 };
const bob: NotesActor = { module: 'fixture_notes', userId: 2 };

const as = <T>(actor: NotesActor, work: (em: EntityManager) => Promise<T>) =>
  runAsActor(db.orm, notesModule, actor, (em) => work(em));
const write = (actor: NotesActor, body: string) =>
  as(actor, (em) =>
    em.execute('insert into fixture_notes.notes (author_id, body) values (?, ?)', [actor.userId, body]),
  );
/** Every note the request can see: no filter, so only the policy decides. */
const visible = (actor: NotesActor) =>
  as(actor, (em) => em.execute<{ body: string }[]>('select body from fixture_notes.notes order by id'));

beforeAll(async () => {
  owned = await createOwnedTestDatabase();
  db = await openDatabase({
    modules: [notesModule, libraryModule],
    target: { kind: 'postgresql', url: owned.url, poolMax: 4 },
  });
  await migrateUp(db);
});
afterAll(async () => {
  await db?.close();
  await owned?.drop();
});

describe('requests run as their module’s request role with the actor’s settings', () => {
  it('the migrating owner is no superuser, and a request is its module’s role with app.user_id set', async () => {
    const [owner] = await inRequestScope(db.orm, (em) =>
      em.execute<{ name: string; superuser: boolean }[]>(
        'select current_user as name, rolsuper as superuser from pg_roles where rolname = current_user',
      ),
    );
    expect(owner).toEqual({ name: owned.name.concat('_owner'), superuser: false });
    const [inside] = await as(ann, (em) =>
      em.execute<{ role: string; userId: string }[]>(
        `select current_user as role, current_setting('app.user_id') as "userId"`,
      ),
    );
    expect(inside).toEqual({ role: NOTES_REQUEST_ROLE, userId: '1' });
  });

  it('a policy filters another actor’s rows out of an unfiltered query, and refuses writing as them', async () => {
    await write(ann, 'ann: buy milk');
    await write(bob, 'bob: call the bank');
    expect(await visible(ann)).toEqual([{ body: 'ann: buy milk' }]);
    expect(await visible(bob)).toEqual([{ body: 'bob: call the bank' }]);
    await expect(
      as(ann, (em) =>
        em.execute("insert into fixture_notes.notes (author_id, body) values (2, 'forged by ann')"),
      ),
    ).rejects.toThrow(ForbiddenError);
    const changed = await as(ann, (em) =>
      em.execute("update fixture_notes.notes set body = 'defaced' where author_id = 2", [], 'run'),
    );
    expect(changed).toMatchObject({ affectedRows: 0 });
    expect(await visible(bob)).toEqual([{ body: 'bob: call the bank' }]);
  });

  it.each([
    ['drop a table', 'drop table fixture_notes.notes'],
    ['truncate a table', 'truncate fixture_notes.notes'],
    ['alter a table', 'alter table fixture_notes.notes add column sneaky text'],
    ['disable a policy', 'alter table fixture_notes.notes disable row level security'],
    ['create a table', 'create table fixture_notes.sneaky (id int)'],
  ])('a request cannot %s', async (_what, statement) => {
    await expect(as(ann, (em) => em.execute(statement))).rejects.toThrow(/must be owner|permission denied/);
    await expect(runAnonymously(db.orm, notesModule, (em) => em.execute(statement))).rejects.toThrow(
      /must be owner|permission denied/,
    );
    expect(await visible(bob)).toEqual([{ body: 'bob: call the bank' }]);
  });

  it('an actor without a row is refused before any work, even by a module whose confirm lets it through', async () => {
    // The fixture's confirm accepts any row or none; its query finds none for this actor.
    const rowless = {
      ...notesModule,
      actor: {
        ...notesModule.actor,
        load: {
          ...notesModule.actor.load!,
          sql: 'select 1 as user_id where false',
          params: () => [],
        },
      },
    };
    let ran = false;
    await expectHuddleError(
      runAsActor(db.orm, rowless, ann, async () => {
        ran = true;
      }),
      UnauthorizedError,
    );
    expect(ran).toBe(false);
  });

  it('an anonymous request sees no row of a table with row-level security', async () => {
    expect(
      await runAnonymously(db.orm, notesModule, (em) => em.execute('select * from fixture_notes.notes')),
    ).toEqual([]);
  });

  it('a request of one module cannot read another module’s tables: the database refuses', async () => {
    await inRequestScope(db.orm, (em) =>
      em.execute("insert into fixture_library.authors (name, email) values ('Ursula', 'ursula@example.com')"),
    );
    const statements = [
      'select email from fixture_library.authors',
      "insert into fixture_library.authors (name) values ('forged')",
    ];
    for (const statement of statements) {
      await expect(as(ann, (em) => em.execute(statement))).rejects.toThrow(
        /permission denied for schema fixture_library/,
      );
      await expect(runAnonymously(db.orm, notesModule, (em) => em.execute(statement))).rejects.toThrow(
        /permission denied for schema fixture_library/,
      );
    }
    const [authors] = await inRequestScope(db.orm, (em) =>
      em.execute<{ count: string }[]>('select count(*) from fixture_library.authors'),
    );
    expect(authors).toEqual({ count: '1' });
  });
});
