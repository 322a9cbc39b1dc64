import { expect, it } from 'vitest';
import { useTestDatabase } from '../../../testing/src/index.ts';
import { libraryModule } from '../fixtures/library.ts';

const database = useTestDatabase([libraryModule]);

it('runs in its own migrated database', async () => {
  const [row] = await database.db.orm.em
    .fork()
    .execute<{ name: string }[]>('select current_database() as name');
  console.log(`HARNESS_DATABASE=${row!.name}`);
  expect(row!.name).toMatch(/^huddle_test_db_/);
});

it('fails on purpose, so the harness is seen cleaning up after a failed run', () => {
  expect(process.env.HUDDLE_HARNESS_FIXTURE_FAIL).toBeUndefined();
});
