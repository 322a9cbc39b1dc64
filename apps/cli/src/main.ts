#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { runCli } from './cli.ts';

// Caches the compiled code of the modules a command loads (on disk, keyed by content), as tsc does:
// a command's second run skips most of its startup compile.
enableCompileCache();

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
