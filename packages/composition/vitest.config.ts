import { defineConfig } from 'vitest/config';

/** Token tests need no database. */
export default defineConfig({ test: { include: ['test/**/*.test.ts'] } });
