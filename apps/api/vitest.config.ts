import { defineConfig, mergeConfig } from 'vitest/config';
import { huddleTestConfig } from '../../vitest.shared.ts';

// The API's suite is the longest and turbo starts it last: two files at a time let it use the cores the
// other suites free as they finish (its files mostly wait on spawned servers and the database). Each file in
// a fresh worker: the API keeps process-wide state (its logger, metrics registry, admin-command starter).
export default mergeConfig(huddleTestConfig, defineConfig({ test: { maxWorkers: 2, isolate: true } }));
