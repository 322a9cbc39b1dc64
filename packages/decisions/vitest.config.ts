import { huddleTestConfig } from '../../vitest.shared.ts';

export default huddleTestConfig;
