import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { domainModules } from '@huddle/composition';
import { acquireTestServer, type TestServer } from '@huddle/testing';
import { apiReport, benchApi } from './api.ts';
import { backupReport, benchBackup } from './backup.ts';
import { benchBulkhead, bulkheadReport } from './bulkhead.ts';
import { benchExtraction, benchExtractionQuality } from './extraction.ts';
import { benchFirstStart } from './first-start.ts';
import { benchFuzz } from './fuzz.ts';
import { benchMetrics } from './metrics.ts';
import { benchSeeding, seedingReport } from './seeding.ts';
import { migratedDatabase } from './server.ts';
import { benchSimilarity, similarityReport } from './similarity.ts';

/**
 * `pnpm bench fuzz [cases]`: the long fuzz run (fuzz.ts), on its own servers.
 * `pnpm bench similarity [decisions]`: HNSW against exact search, recall@10 and speed-up (default 100,000).
 * `pnpm bench first-start [runs]`: `pnpm start` on an empty embedded data directory until `/health` answers.
 * `pnpm bench extraction`: decisions' extraction: precision and recall on the labelled meetings, then its
 * time at 100–800 KiB, adversarial and ordinary, beside /health.
 * `pnpm bench [scale]`: seeds the composed modules' realistic data at `scale` (default 2000) on a throwaway
 * server (acquireTestServer: TEST_DATABASE_URL, a container, or a local cluster), then prints each figure
 * beside its baseline measured in the same run. `pnpm bench api [seconds]`: the request path against raw
 * `pg` (default 10 s per side). `pnpm bench bulkhead`: one locked row under 20 writes/s, and what the other
 * modules' callers see meanwhile against before. `pnpm bench metrics`: the CPU a request's Prometheus
 * metrics add to it (no database). Numbers are printed, never asserted.
 */
const [first, second] = process.argv.slice(2);
if (first === 'fuzz') {
  process.exitCode = await benchFuzz(process.argv.slice(3));
} else if (first === 'metrics') {
  console.log((await benchMetrics()).join('\n'));
} else if (first === 'first-start') {
  console.log((await benchFirstStart(Number(second ?? 5))).join('\n'));
} else {
  // The request path is measured with commits flushed to disk, as in production; bulk paths as the tests run.
  const server = await acquireTestServer({ durable: first === 'api' || first === 'bulkhead' });
  const workDir = await mkdtemp(path.join(tmpdir(), 'huddle-bench-'));
  try {
    if (first === 'api') await benchRequestPath(server, workDir, Number(second ?? 10));
    else if (first === 'bulkhead') await benchBulkheadPath(server, workDir);
    else if (first === 'similarity') await benchSimilarityPath(server, Number(second ?? 100_000));
    else if (first === 'extraction') {
      console.log(`huddle bench extraction, PostgreSQL from ${server.source}, node ${process.version}`);
      console.log((await benchExtractionQuality()).join('\n'));
      console.log((await benchExtraction(server.url)).join('\n'));
    } else await benchBulkPaths(server, workDir, Number(first ?? process.env.BENCH_SCALE ?? 2000));
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await server.stop();
  }
}

async function benchRequestPath(server: TestServer, workDir: string, seconds: number) {
  if (!(seconds > 0)) throw new Error(`seconds: must be a positive number, got ${second}`);
  console.log(
    `huddle bench api, ${seconds} s per side, PostgreSQL from ${server.source}${server.source === 'local cluster' ? ' (fsync on)' : ''}, node ${process.version}, metrics ${process.env.HUDDLE_METRICS ?? 'off'}`,
  );
  const target = await migratedDatabase(server.url, 'bench_api', domainModules, 10);
  try {
    console.log(apiReport(await benchApi(seconds * 1000, target.db, target.url, workDir)).join('\n'));
  } finally {
    await target.db.close();
  }
}

async function benchBulkheadPath(server: TestServer, workDir: string) {
  console.log(
    `huddle bench bulkhead, PostgreSQL from ${server.source}${server.source === 'local cluster' ? ' (fsync on)' : ''}, node ${process.version}`,
  );
  const target = await migratedDatabase(server.url, 'bench_bulkhead', domainModules);
  await target.db.close();
  console.log(bulkheadReport(await benchBulkhead(domainModules, target.url, workDir)).join('\n'));
}

async function benchSimilarityPath(server: TestServer, decisions: number) {
  if (!Number.isSafeInteger(decisions) || decisions < 1000)
    throw new Error(`decisions: must be an integer of at least 1000, got ${second}`);
  console.log(`huddle bench similarity, PostgreSQL from ${server.source}, node ${process.version}`);
  console.log(similarityReport(await benchSimilarity(server.url, decisions)).join('\n'));
}

async function benchBulkPaths(server: TestServer, workDir: string, scale: number) {
  if (!Number.isSafeInteger(scale) || scale < 1)
    throw new Error(`scale: must be a positive integer, got ${scale}`);
  console.log(`huddle bench, scale ${scale}, PostgreSQL from ${server.source}, node ${process.version}`);
  const { source, figures } = await benchSeeding(server.url, domainModules, scale, workDir);
  console.log(seedingReport(figures).join('\n'));
  try {
    console.log(backupReport(await benchBackup(server.url, domainModules, source, workDir)).join('\n'));
  } finally {
    await source.db.close();
  }
}
