import { defineConfig } from 'vitest/config';

/**
 * Every package's vitest settings: suites run against a real PostgreSQL that `test/global-setup.ts`
 * provides (see @huddle/db/testing), in forked workers, with timeouts sized for database work.
 */
export const huddleTestConfig = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
