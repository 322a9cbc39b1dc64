import { defineConfig } from 'vitest/config';

// A suite run by harness.test.ts as a child process, to watch the harness from the outside.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    globalSetup: ['./global-setup.ts'],
    pool: 'forks',
    hookTimeout: 60_000,
  },
});
