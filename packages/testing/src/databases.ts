import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The URL of database `name` on the same server as `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh name for a throwaway test database. */
export function testDatabaseName(kind: 'tpl' | 'db'): string {
  return `huddle_test_${kind}_${randomBytes(6).toString('hex')}`;
}

/** Runs `work` with a client connected to `serverUrl`, always closing it. */
export async function withClient<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const OBJECT_IN_USE = '55006';

/** CREATE DATABASE, optionally as a copy of `template`; retried while the template is briefly in use. */
export async function createDatabase(serverUrl: string, name: string, template = 'template0'): Promise<void> {
  await withClient(serverUrl, async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`create database "${name}" template "${template}"`);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== OBJECT_IN_USE || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
}

/** DROP DATABASE, disconnecting anyone still connected. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
}

/** Names of databases on the server whose name starts with `prefix`. */
export async function listDatabases(serverUrl: string, prefix: string): Promise<string[]> {
  return withClient(serverUrl, async (client) => {
    const result = await client.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1) order by datname',
      [prefix],
    );
    return result.rows.map((row) => row.datname);
  });
}
