import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@huddle/testing';
import { seconds } from './server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PAGE_BYTES = 4096;
const SAMPLE_MS = 20;

/** Every process whose parent chain reaches `root`, `root` included, from /proc (Linux). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the parent pid is the 2nd field after it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // the process ended while the table was read
    }
  }
  const tree = [root];
  for (let index = 0; index < tree.length; index++) tree.push(...(children.get(tree[index]!) ?? []));
  return tree;
}

/** Resident bytes of the tree under `root` now. */
function treeResidentBytes(root: number): number {
  let bytes = 0;
  for (const pid of processTree(root)) {
    try {
      bytes += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
    } catch {
      // ended meanwhile
    }
  }
  return bytes;
}

interface FirstStart {
  milliseconds: number;
  peakBytes: number;
}

/**
 * One `pnpm start` on a new, empty HUDDLE_DATA_DIR: the time until `/health` answers 200, and the largest
 * resident size of the process tree (pnpm, its shell, node) sampled every 20 ms until then.
 */
async function firstStart(): Promise<FirstStart> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-first-start-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn('pnpm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, HUDDLE_DATA_DIR: dataDir, DATABASE_URL: '', HUDDLE_PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let peakBytes = 0;
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  try {
    for (;;) {
      peakBytes = Math.max(peakBytes, treeResidentBytes(child.pid!));
      const healthy = await fetch(`http://127.0.0.1:${port}/health`)
        .then((response) => response.ok)
        .catch(() => false);
      if (healthy) return { milliseconds: performance.now() - started, peakBytes };
      if (ended) throw new Error(`pnpm start exited with ${await exited} before /health answered`);
      await sleep(SAMPLE_MS);
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * `pnpm bench first-start [runs]`: `pnpm start` on an empty embedded data directory, `runs` times (default
 * 5) one after another: time until `/health` answers and the process tree's peak resident size, each as
 * median (min–max).
 */
export async function benchFirstStart(runs: number): Promise<string[]> {
  if (!(runs > 0)) throw new Error(`runs: must be a positive number, got ${runs}`);
  const results: FirstStart[] = [];
  for (let run = 0; run < runs; run++) results.push(await firstStart());
  const times = results.map((result) => result.milliseconds);
  const peaks = results.map((result) => result.peakBytes);
  return [
    `huddle bench first-start, ${runs} runs of pnpm start on an empty HUDDLE_DATA_DIR, node ${process.version}`,
    `  until /health answers   ${seconds(median(times))} median (${seconds(Math.min(...times))}–${seconds(Math.max(...times))})`,
    `  peak RSS, process tree  ${mebibytes(median(peaks))} median (${mebibytes(Math.min(...peaks))}–${mebibytes(Math.max(...peaks))})`,
  ];
}
