import { enableCompileCache } from 'node:module';

// Preloaded by `pnpm start` (`--import`): caches the compiled code of every module the API then loads, on
// disk and keyed by content, as the CLI does; every start after the first skips most of its compile.
enableCompileCache();
