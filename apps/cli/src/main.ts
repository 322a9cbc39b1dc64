#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { runCli } from './cli.ts';

// Caches the compiled code of the modules a command loads (on disk, keyed by content), as tsc does:
// a command's second run skips most of its startup compile.
enableCompileCache();

// An installed `huddle` keeps its embedded database per user, whichever directory it runs in (the XDG base
// directory for data); the repository's `pnpm huddle` pins the checkout's .huddle/data, which `pnpm start` uses.
if (!process.env.HUDDLE_DATA_DIR) {
  const dataHome = process.env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share');
  process.env.HUDDLE_DATA_DIR = path.join(dataHome, 'huddle');
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
