import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killApiProcesses, runApiProcess } from './helpers.ts';

describe('pnpm start on a port another process holds', () => {
  let dir: string;
  let holder: Server;
  let port: number;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'huddle-start-errors-'));
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
  });
  afterAll(async () => {
    await killApiProcesses();
    await new Promise((resolve) => holder.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('stops with one line naming the variable to change, before creating or migrating anything', async () => {
    const dataDir = path.join(dir, 'data');
    const run = runApiProcess({ HUDDLE_DATA_DIR: dataDir, DATABASE_URL: '', HUDDLE_PORT: String(port) });
    expect(await run.exited).toBe(1);
    expect(run.output()).toBe(
      `huddle api: HUDDLE_PORT: 127.0.0.1:${port} is in use by another process (set HUDDLE_PORT to a free port, or stop that process)\n`,
    );
    expect(existsSync(dataDir)).toBe(false);
  });
});
