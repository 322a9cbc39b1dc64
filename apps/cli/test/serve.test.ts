import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from './data.ts';
import { huddleProcess, MAIN } from './helpers.ts';

const HUDDLE_SECRET = 'a-secret-of-at-least-thirty-two-characters!';
const dir = useTempDir('huddle-cli-serve-');
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

describe('huddle serve', () => {
  it('serves the API on DATABASE_URL from any directory and exits 0 on SIGTERM', async () => {
    const server = spawn(process.execPath, [MAIN, 'serve'], {
      cwd: dir.path,
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        HUDDLE_SECRET,
        HUDDLE_PORT: '0',
        HUDDLE_JOBS: 'off',
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const listening = /Huddle API listening on (http:\/\/\S+)/.exec(stdout);
        if (listening) resolve(listening[1]!);
      });
      server.once('exit', (code) => reject(new Error(`huddle serve exited ${code}: ${stdout}`)));
    });
    expect(stdout).toContain('(PostgreSQL)');
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });
});

describe('the installed binary', () => {
  it('keeps the embedded database in $XDG_DATA_HOME/huddle when HUDDLE_DATA_DIR is unset', async () => {
    // A read command on a data home that holds no database stops at once, naming the directory it chose.
    const dataHome = path.join(dir.path, 'data-home');
    const result = await huddleProcess(['migrate', 'status'], {
      DATABASE_URL: '',
      HUDDLE_DATA_DIR: '',
      XDG_DATA_HOME: dataHome,
    });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^huddle: no embedded database in [^\n]*\n$/);
    expect(result.stderr).toContain(` ${path.join(dataHome, 'huddle')}: run \`huddle migrate up\``);
    expect(existsSync(dataHome)).toBe(false);
  });
});
