import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/src/index.ts';
import {
  ConfigurationError,
  type Database,
  listJobs,
  migrateUp,
  openDatabase,
  runJob,
} from '../src/index.ts';
import { notesModule } from './fixtures/notes.ts';

let database: TestDatabase;
/** Two handles on one database: two API processes behind a load balancer, as far as jobs can tell. */
let first: Database;
let second: Database;

const open = () =>
  openDatabase({ modules: [notesModule], target: { kind: 'postgresql', url: database.url, poolMax: 4 } });
const addNotes = (db: Database, bodies: string[]) =>
  db.orm.em
    .fork()
    .execute(
      `insert into fixture_notes.notes (author_id, body) values ${bodies.map(() => '(1, ?)').join(', ')}`,
      bodies,
    );

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  first = await open();
  await migrateUp(first);
  second = await open();
});
afterAll(async () => {
  await first?.close();
  await second?.close();
  await database?.drop();
});

describe('module jobs', () => {
  it('are listed as <module>.<job>, and an unknown one is refused naming the known ones', async () => {
    expect(listJobs(first).map((entry) => entry.id)).toEqual([
      'huddle.expire-idempotency-keys',
      'huddle.delete-ended-sessions',
      'fixture_notes.drop-empty',
    ]);
    const refused = runJob(first, 'fixture_notes.nope');
    await expect(refused).rejects.toThrow(ConfigurationError);
    await expect(refused).rejects.toThrow(
      'job: unknown job "fixture_notes.nope" (known: huddle.expire-idempotency-keys, huddle.delete-ended-sessions, fixture_notes.drop-empty)',
    );
  });

  it('run on demand and are idempotent: a second run finds nothing to do', async () => {
    await addNotes(first, ['', 'kept', '']);
    expect(await runJob(first, 'fixture_notes.drop-empty')).toMatchObject({
      status: 'ran',
      rows: 2,
      summary: '2 empty notes deleted',
    });
    expect(await runJob(first, 'fixture_notes.drop-empty')).toMatchObject({ status: 'ran', rows: 0 });
  });

  it('run each schedule slot once, however many processes fire it at the same moment', async () => {
    await addNotes(first, ['', '']);
    const slot = new Date('2026-11-22T04:15:00Z');
    const results = await Promise.all(
      [first, second, first, second].map((db) =>
        runJob(db, 'fixture_notes.drop-empty', { scheduledFor: slot }),
      ),
    );
    expect(results.map((result) => result.status).sort()).toEqual(['ran', 'skipped', 'skipped', 'skipped']);
    const recorded = await first.orm.em
      .fork()
      .execute('select module, job, rows, summary from huddle.job_runs where scheduled_for = ?', [slot]);
    expect(recorded).toEqual([
      { module: 'fixture_notes', job: 'drop-empty', rows: 2, summary: '2 empty notes deleted' },
    ]);
    const next = await runJob(second, 'fixture_notes.drop-empty', {
      scheduledFor: new Date('2026-11-22T04:20:00Z'),
    });
    expect(next).toMatchObject({ status: 'ran', rows: 0 });
  });
});
