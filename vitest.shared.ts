import { defineConfig } from 'vitest/config';

/**
 * Every package's vitest settings: suites run against a real PostgreSQL that `test/global-setup.ts`
 * provides (see @huddle/db/testing), in forked workers, with timeouts sized for database work.
 *
 * One worker per suite: `pnpm test` already runs four suites at a time (turbo's `concurrency`), so the
 * files of a suite run one after another, and a 2-core machine runs about four test files at a time, whose
 * servers, child processes and database work fill the cores while the others wait. The worker is reused from file
 * to file (`isolate: false`): loading the data layer and MikroORM again for every file cost a third of a
 * suite's CPU (scrum: 17.4 s of user CPU isolated, 6.8 s not); a suite whose files mock modules or keep
 * process-wide state turns isolation back on. A test that needs longer than `testTimeout` sets its own, at least three times what it takes
 * under the full `pnpm test` (docs/architecture.md, Tests).
 */
export const huddleTestConfig = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    isolate: false,
    maxWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
