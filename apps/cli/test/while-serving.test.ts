import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { BackupManifest } from '@huddle/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSocketPath } from '../src/admin-socket.ts';
import { runCli } from '../src/cli.ts';
import { contents, huddleOk, useTempDir } from './data.ts';
import { huddle, huddleProcess, MAIN } from './helpers.ts';

const run = promisify(execFile);

/**
 * The CLI while `huddle serve` (what `pnpm start` runs) holds the embedded database: one server for the
 * file, real commands against its data directory, handed to it over the admin socket.
 */
const dir = useTempDir('huddle-cli-serving-');
let dataDir: string;
let env: NodeJS.ProcessEnv;
let server: ChildProcessWithoutNullStreams;
let exited: Promise<unknown[]>;
let url: string;
let output = '';
/** The backup taken through the running server, and what it holds. */
const servedBackup = () => path.join(dir.path, 'operator', 'served.huddle');
let servedManifest: BackupManifest;
/** A scrum token the CLI issued, for calls to the server. */
let scrumToken: string;

beforeAll(async () => {
  // Short: a Unix socket's path has a length limit, and the socket lives in the data directory.
  dataDir = await mkdtemp(path.join(tmpdir(), 'hs-'));
  env = { DATABASE_URL: '', HUDDLE_DATA_DIR: dataDir, HUDDLE_SECRET: '' };
  // Elsewhere than the tests' working directory, so that a relative path resolved by the server would miss.
  server = spawn(process.execPath, [MAIN, 'serve'], {
    cwd: dir.path,
    env: { ...process.env, ...env, HUDDLE_PORT: '0', HUDDLE_JOBS: 'off', HUDDLE_LOG_LEVEL: 'warn' },
  });
  exited = once(server, 'exit');
  server.stdout.on('data', (chunk) => (output += chunk));
  server.stderr.on('data', (chunk) => (output += chunk));
  // A first start on a new embedded database (initdb, migrate, seed).
  url = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', () => {
      const found = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (found) resolve(found);
    });
    void exited.then(([code]) => reject(new Error(`huddle serve exited ${code}:\n${output}`)));
  });
  // A first start on a new embedded database: up to 40 s on a 2-core machine under load.
}, 120_000);
afterAll(async () => {
  if (server.exitCode === null) {
    server.kill('SIGKILL');
    await exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

/** GET a procedure of the running server as the token's user: the status, and the data when it answers. */
async function call(procedure: string, token: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/${procedure}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

describe('huddle while the embedded server runs', () => {
  it('issues scrum and planner tokens the running server accepts', async () => {
    const scrum = await huddle(['token', 'issue', '--module', 'scrum', '--user', '2'], env);
    expect(scrum).toMatchObject({ code: 0, stderr: '' });
    expect(scrum.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    scrumToken = scrum.stdout.trim();
    expect(await call('scrum.users.directory', scrumToken)).toMatchObject({ status: 200 });

    const planner = await huddle(['token', 'issue', '--module', 'planner', '--user', 'demo', '--json'], env);
    expect(planner).toMatchObject({ code: 0, stderr: '' });
    const { token, subject } = JSON.parse(planner.stdout) as { token: string; subject: string };
    expect(subject).toBe('demo');
    expect(await call('planner.repositories.list', token)).toMatchObject({ status: 200 });
    // The user must exist in the server's database, as without the server.
    const unknown = await huddle(['token', 'issue', '--module', 'scrum', '--user', '999999'], env);
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr: 'huddle: subject: scrum user 999999 does not exist\n',
    });
  });

  it('reads and writes the server’s data: migrate status and up, seed, jobs run, scrum invite', async () => {
    const status = await huddle(['migrate', 'status', '--json'], env);
    expect(status.code).toBe(0);
    const modules = JSON.parse(status.stdout) as { module: string; pending: string[] }[];
    expect(modules.map((module) => module.module)).toEqual([
      'huddle',
      'poker',
      'scrum',
      'decisions',
      'planner',
    ]);
    expect(modules.flatMap((module) => module.pending)).toEqual([]);

    // Commands and the server's own requests at once: the server runs the commands one after the other,
    // and its requests meanwhile.
    const [seeded, job, migrated, directory] = await Promise.all([
      huddle(['seed', 'realistic', '--module', 'poker', '--scale', '1', '--json'], env),
      huddle(['jobs', 'run', 'scrum.detect-delays'], env),
      huddle(['migrate', 'up'], env),
      call('scrum.users.directory', scrumToken),
    ]);
    expect(directory).toMatchObject({ status: 200 });
    expect(migrated).toEqual({ code: 0, stdout: 'nothing to do\n', stderr: '' });
    expect(seeded).toMatchObject({ code: 0, stderr: '' });
    const { tables } = JSON.parse(seeded.stdout) as { tables: { table: string; rows: number }[] };
    const seededVotes = tables.find((table) => table.table === 'poker.votes')!.rows;
    expect(seededVotes).toBeGreaterThan(0);

    expect(job).toMatchObject({ code: 0, stderr: '' });
    expect(job.stdout).toMatch(/^scrum\.detect-delays: .* \(\d+ rows\) in \d/);

    const invited = await huddle(['scrum', 'invite', 'octocat', '--role', 'admin'], env);
    expect(invited).toEqual({
      code: 0,
      stdout: 'invited octocat as admin: their first GitHub sign-in creates the user\n',
      stderr: '',
    });

    // The server's view: what the commands wrote is in the database it serves.
    const manifest = await backupManifest(path.join(dir.path, 'after-writes.huddle'));
    const rows = (name: string) =>
      manifest.tables.find((table) => `${table.schema}.${table.name}` === name)!.rows;
    expect(rows('poker.votes')).toBeGreaterThanOrEqual(seededVotes);
    expect(rows('scrum.invitations')).toBe(1);
  });

  it('draws progress bars on the operator’s terminal, also one without a window size', async () => {
    let stdout = '';
    let stderr = '';
    const terminal = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          stderr += chunk.toString();
          done();
        },
      }),
      { isTTY: true, columns: 0 },
    );
    const code = await runCli(['seed', 'realistic', '--module', 'poker', '--scale', '1', '--seed', '2'], {
      stdout: new Writable({
        write(chunk: Buffer, _encoding, done) {
          stdout += chunk.toString();
          done();
        },
      }),
      stderr: terminal,
      env: { ...process.env, ...env },
      cwd: process.cwd(),
    });
    expect({ code, stdout }).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^seeded realistic poker/),
    });
    expect(stderr).toContain('| poker.votes');
  });

  it('takes a backup of one snapshot, with a path relative to the operator’s working directory', async () => {
    // A real process, the way an operator runs it, elsewhere than the server.
    const operator = path.dirname(servedBackup());
    await mkdir(operator, { recursive: true });
    const backup = await huddleProcess(['backup', path.basename(servedBackup()), '--json'], env, operator);
    expect(backup).toMatchObject({ code: 0, stderr: '' });
    servedManifest = (JSON.parse(backup.stdout) as { manifest: BackupManifest }).manifest;
    expect((await stat(servedBackup())).isFile()).toBe(true);
    expect(servedManifest.tables.find((table) => table.name === 'invitations')!.rows).toBe(1);
    // `/dev/stdout` is the operator's: the gzip stream, then the summary line, into the shell's pipe.
    const piped = path.join(dir.path, 'piped.out');
    const shell = await run(
      'bash',
      ['-o', 'pipefail', '-c', '"$0" "$1" backup /dev/stdout | cat > "$2"', process.execPath, MAIN, piped],
      { env: { ...process.env, ...env } },
    );
    expect(shell.stderr).toBe('');
    const bytes = await readFile(piped);
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(bytes.toString('latin1')).toMatch(
      /\nwrote \/dev\/stdout: \d+ tables, [\d,]+ rows in [\d.]+ m?s\n$/,
    );
    // Written after the snapshot: the restore at the end takes it away again.
    await huddleOk(['scrum', 'invite', 'hubot'], env);
    // Real processes, each starting Node and the CLI: up to 14 s on a 2-core machine under load.
  }, 60_000);

  it('refuses a restore into the running server’s data directory with one line, changing nothing', async () => {
    const file = servedBackup();
    const before = await backupManifest(path.join(dir.path, 'before-restore.huddle'));
    for (const args of [
      ['restore', file, '--force'],
      ['restore', file, '--dry-run'],
    ]) {
      const refused = await huddle(args, env);
      expect(refused).toEqual({
        code: 1,
        stdout: '',
        stderr: `huddle: restore needs the embedded database in ${dataDir} to itself, and the running API server (process ${server.pid}) serves it: stop the server first, then run restore again\n`,
      });
    }
    const after = await backupManifest(path.join(dir.path, 'after-restore.huddle'));
    expect(after.tables.map((table) => table.sha256)).toEqual(before.tables.map((table) => table.sha256));
  });

  it('gives usage and input errors as without a server, and a second server the lock’s line', async () => {
    expect(await huddle(['migrate', 'status', '--module', 'nope'], env)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'huddle: module: unknown module "nope" (known: huddle, poker, scrum, decisions, planner)\n',
    });
    const second = await huddleProcess(['serve'], { ...env, HUDDLE_PORT: '0' });
    expect(second).toEqual({
      code: 1,
      stdout: '',
      stderr: `huddle api: the embedded database in ${dataDir} is in use by process ${server.pid} (stop it, or set HUDDLE_DATA_DIR to another directory)\n`,
    });
    // Real processes, each starting Node and the CLI: up to 14 s on a 2-core machine under load.
  }, 60_000);

  it('listens on a socket only the data directory’s owner can open', async () => {
    const socket = await stat(adminSocketPath(dataDir));
    const directory = await stat(path.dirname(adminSocketPath(dataDir)));
    expect({
      socket: socket.isSocket(),
      socketMode: socket.mode & 0o777,
      directoryMode: directory.mode & 0o777,
      owner: [socket.uid, directory.uid],
    }).toEqual({
      socket: true,
      socketMode: 0o600,
      directoryMode: 0o700,
      owner: [process.getuid!(), process.getuid!()],
    });
  });

  it('after the server stops: the socket is gone, commands open the database themselves and print the same, and restore works', async () => {
    const served = await huddle(['migrate', 'status'], env);
    server.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    await expect(stat(adminSocketPath(dataDir))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await huddle(['migrate', 'status'], env)).toEqual(served);

    const restored = await huddle(['restore', servedBackup(), '--force'], env);
    expect(restored).toMatchObject({ code: 0, stderr: '' });
    const tables = servedManifest.tables.map(({ schema, name, rows, sha256 }) => ({
      schema,
      name,
      rows,
      sha256,
    }));
    expect(await contents(env, path.join(dir.path, 'restored.huddle'))).toEqual(tables);
    // Three commands that each open the embedded database themselves: 16 s on a loaded 2-core machine.
  }, 90_000);
});

/** The manifest of a backup of the served database, taken through the server. */
async function backupManifest(file: string): Promise<BackupManifest> {
  return (JSON.parse(await huddleOk(['backup', file, '--json'], env)) as { manifest: BackupManifest })
    .manifest;
}
