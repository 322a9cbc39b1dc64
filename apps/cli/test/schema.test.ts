import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huddleOk, useTempDir } from './data.ts';
import { huddle } from './helpers.ts';

const REPO_ALLOW_LIST = path.resolve(import.meta.dirname, '../../../docs/schema/lint-allow.json');
const dir = useTempDir('huddle-cli-schema-');
let database: TestDatabase;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  database = await createTestDatabase();
  env = { DATABASE_URL: database.url };
});
afterAll(() => database?.drop());

describe('huddle schema docs', () => {
  it('keeps hand-written text, fails --check once a migration adds a column, passes after regenerating', async () => {
    const out = path.join(dir.path, 'docs');
    const doc = path.join(out, 'poker.md');
    await huddleOk(['schema', 'docs', '--out', out], env);
    const generated = await readFile(doc, 'utf8');
    expect(generated).toContain('<!-- huddle:generated:start -->');
    expect(generated).toContain('erDiagram');
    await writeFile(
      doc,
      `# Poker, by hand\n\nWhy the schema is the way it is.\n\n${generated.replace(/^# .*\n\n/, '')}`,
    );
    // Every composed module gets its doc; this test follows poker's.
    expect(await huddleOk(['schema', 'docs', '--out', out, '--check'], env)).toContain(
      `up to date: ${doc}\n`,
    );

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('alter table poker.users add column nickname text');
    await client.end();
    const stale = await huddle(['schema', 'docs', '--out', out, '--check'], env);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain(`stale: ${doc}\n`);
    expect(stale.stderr).toBe(`huddle: schema docs are stale: ${doc} (run huddle schema docs)\n`);

    expect(await huddleOk(['schema', 'docs', '--out', out], env)).toContain(`updated: ${doc}\n`);
    const regenerated = await readFile(doc, 'utf8');
    expect(regenerated.startsWith('# Poker, by hand\n\nWhy the schema is the way it is.\n\n')).toBe(true);
    expect(regenerated).toContain('| `nickname` | text | null |  |');
    expect((await huddle(['schema', 'docs', '--out', out, '--check'], env)).code).toBe(0);
  });
});

describe('huddle schema lint', () => {
  it('passes the composed modules with the repository allow list', async () => {
    expect(await huddleOk(['schema', 'lint', '--allow', REPO_ALLOW_LIST], env)).toBe('no findings\n');
  });

  it('without the allow list, exits 1 with one line per finding', async () => {
    const empty = path.join(dir.path, 'empty-allow.json');
    await writeFile(empty, '[]');
    const result = await huddle(['schema', 'lint', '--allow', empty], env);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    // One line per finding the repository's allow list keeps quiet, poker's seed-named index among them.
    const allowed = JSON.parse(await readFile(REPO_ALLOW_LIST, 'utf8')) as unknown[];
    expect(lines).toHaveLength(allowed.length);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^poker\.votes: redundant-index: index idx_votes_story \(story_id\) is redundant/,
      ),
    );
    expect(result.stderr).toBe(`huddle: schema lint: ${allowed.length} finding(s)\n`);
  });

  it('refuses a malformed allow list in one line', async () => {
    const bad = path.join(dir.path, 'bad-allow.json');
    await writeFile(bad, '[{"module":"poker","index":"idx_votes_story"}]');
    const result = await huddle(['schema', 'lint', '--allow', bad], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^huddle: 0\.reason: /);
  });
});

describe('huddle maintenance analyze', () => {
  it('vacuums and analyzes each table of the module, with timings', async () => {
    const results = JSON.parse(
      await huddleOk(['maintenance', 'analyze', '--module', 'poker', '--json'], env),
    ) as {
      table: string;
      vacuumed: boolean;
      milliseconds: number;
    }[];
    expect(results.map((result) => result.table)).toContain('poker.votes');
    expect(results.every((result) => result.vacuumed && result.milliseconds >= 0)).toBe(true);
  });
});
