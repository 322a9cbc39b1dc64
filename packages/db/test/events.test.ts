import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, inRequestScope, openDatabase, publish } from '../src/index.ts';
import { useTestDatabase } from '../src/testing/index.ts';
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
});
