import { defineConfig, mergeConfig } from 'vitest/config';
import { huddleTestConfig } from '../../vitest.shared.ts';

// test/harness-fixture is a suite of its own, run by harness.test.ts in a child process.
export default mergeConfig(
  huddleTestConfig,
  defineConfig({ test: { exclude: ['test/harness-fixture/**'] } }),
);
