import { defineConfig, mergeConfig } from 'vitest/config';
import { huddleTestConfig } from '../../vitest.shared.ts';

// Each file in a fresh worker: `slow-work.test.ts` mocks a module (passwords) that other files import first.
export default mergeConfig(huddleTestConfig, defineConfig({ test: { isolate: true } }));
