import { defineConfig, mergeConfig } from 'vitest/config';
import { huddleTestConfig } from '../../vitest.shared.ts';

// The API's suite is among the longest: two files at a time let it use the cores the other suites free as
// they finish (its files mostly wait on spawned servers and the database). The worker
// is shared from file to file like every other suite's: the process-wide state (logger, metrics registry,
// tracing, admin-command starter) lives in the servers the files spawn, and importing the API afresh for
// each of 31 files cost a quarter of the suite's CPU (171 s of CPU isolated, 125 s shared).
export default mergeConfig(huddleTestConfig, defineConfig({ test: { maxWorkers: 2 } }));
