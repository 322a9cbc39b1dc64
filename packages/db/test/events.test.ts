import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../testing/src/index.ts';
import {
  type Database,
  DatabaseUnavailableError,
  inRequestScope,
  openDatabase,
  publish,
} from '../src/index.ts';
import { libraryModule } from './fixtures/library.ts';

const database = useTestDatabase([libraryModule]);
let otherProcess: Database;

beforeAll(async () => {
  // A second Database on the same server stands in for a second API process.
  otherProcess = await openDatabase({
    modules: [libraryModule],
    target: { kind: 'postgresql', url: database.url, poolMax: 2 },
  });
});
afterAll(async () => {
  await otherProcess?.close();
});

describe('LISTEN/NOTIFY events', () => {
  it('reach a listener on another connection pool, in order, only after commit', async () => {
    const received: unknown[] = [];
    const unlisten = await otherProcess.events.listen('fixture_events', (payload) => received.push(payload));
    await expect(
      inRequestScope(database.db.orm, async (em) => {
        await publish(em, 'fixture_events', { n: 0 });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    for (const n of [1, 2, 3])
      await inRequestScope(database.db.orm, (em) => publish(em, 'fixture_events', { n }));
    await expect.poll(() => received).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await unlisten();
    await inRequestScope(database.db.orm, (em) => publish(em, 'fixture_events', { n: 4 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(3);
  });

  it('end every subscription with onLost when the connection drops, and listen again on a new one', async () => {
    const lost: unknown[] = [];
    const received: unknown[] = [];
    await otherProcess.events.listen(
      'fixture_events',
      () => undefined,
      (error) => lost.push(error),
    );
    await otherProcess.events.listen(
      'fixture_other',
      () => undefined,
      (error) => lost.push(error),
    );
    const [terminated] = await database.db.orm.em.fork().execute<{ n: number }[]>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where application_name = 'huddle-events' and datname = current_database()`,
    );
    expect(terminated).toEqual({ n: 1 });
    await expect.poll(() => lost).toHaveLength(2);
    expect(lost[0]).toBeInstanceOf(DatabaseUnavailableError);
    const unlisten = await otherProcess.events.listen('fixture_events', (payload) => received.push(payload));
    await inRequestScope(database.db.orm, (em) => publish(em, 'fixture_events', { n: 5 }));
    await expect.poll(() => received).toEqual([{ n: 5 }]);
    await unlisten();
  });
});
