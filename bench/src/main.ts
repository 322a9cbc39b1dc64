import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { domainModules } from '@huddle/composition';
import { acquireTestServer } from '@huddle/db/testing';
import { backupReport, benchBackup } from './backup.ts';
import { benchFuzz } from './fuzz.ts';
import { benchSeeding, seedingReport } from './seeding.ts';

/**
 * `pnpm bench fuzz [cases]`: the long fuzz run (fuzz.ts).
 * `pnpm bench [scale]`: seeds the composed modules' realistic data at `scale` (default 2000) on a throwaway
 * server (acquireTestServer: TEST_DATABASE_URL, a container, or a local cluster), then prints each figure
 * beside its baseline measured in the same run. Numbers are printed, never asserted.
 */
if (process.argv[2] === 'fuzz') {
  process.exitCode = await benchFuzz(process.argv.slice(3));
} else {
  const scale = Number(process.argv[2] ?? process.env.BENCH_SCALE ?? 2000);
  if (!Number.isSafeInteger(scale) || scale < 1)
    throw new Error(`scale: must be a positive integer, got ${process.argv[2]}`);

  const server = await acquireTestServer();
  const workDir = await mkdtemp(path.join(tmpdir(), 'huddle-bench-'));
  try {
    console.log(`huddle bench, scale ${scale}, PostgreSQL from ${server.source}, node ${process.version}`);
    const { source, figures } = await benchSeeding(server.url, domainModules, scale, workDir);
    console.log(seedingReport(figures).join('\n'));
    try {
      console.log(backupReport(await benchBackup(server.url, domainModules, source, workDir)).join('\n'));
    } finally {
      await source.db.close();
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await server.stop();
  }
}
