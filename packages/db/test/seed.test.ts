import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../testing/src/index.ts';
import { InvalidInputError, MAX_SEED_SCALE, migrateUp, seed } from '../src/index.ts';
import { ledgerModule } from './fixtures/ledger.ts';

// The suite's template holds other fixtures; this file migrates the ledger, which has a realistic seeder.
const database = useTestDatabase([ledgerModule], { migrated: false });
beforeAll(() => migrateUp(database.db));

describe('seed', () => {
  it.each([0, -1, 1.5, MAX_SEED_SCALE + 1])(
    'refuses realistic scale %s for every module, naming the field, before writing anything',
    async (scale) => {
      const refused = seed(database.db, 'realistic', { scale });
      await expect(refused).rejects.toThrow(InvalidInputError);
      await expect(refused).rejects.toThrow(
        `scale: must be an integer from 1 to ${MAX_SEED_SCALE}, got ${scale}`,
      );
      const [row] = await database.db.orm.em
        .fork()
        .execute<{ n: number }[]>('select count(*)::int as n from fixture_ledger.accounts');
      expect(row!.n).toBe(0);
    },
  );
});
