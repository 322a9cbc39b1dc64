import { beforeAll, describe, expect, it } from 'vitest';
import {
  analyzeTables,
  type Database,
  GENERATED_END,
  GENERATED_START,
  InvalidInputError,
  lintSchema,
  mergeSchemaDoc,
  migrateUp,
  openDatabase,
  parseLintAllowList,
  renderSchemaDocs,
} from '../src/index.ts';
import { useMigratedDatabases } from './databases.ts';
import { ledgerModule } from './fixtures/ledger.ts';
import { libraryModule } from './fixtures/library.ts';
import { lintViolationsModule } from './fixtures/lint-violations.ts';
import { reviewsModule } from './fixtures/reviews.ts';

const migratedDatabase = useMigratedDatabases();

let compliant: Database;
let violating: Database;
beforeAll(async () => {
  compliant = await migratedDatabase([libraryModule, reviewsModule, ledgerModule]);
  violating = await migratedDatabase([libraryModule, lintViolationsModule]);
});

describe('schema lint', () => {
  /** The repository's reason for keeping pgvector in `public`, as docs/schema/lint-allow.json records it. */
  const vectorInPublic = {
    module: 'huddle',
    rule: 'extension-in-public',
    object: 'vector',
    reason: 'types and operators are referenced unqualified',
  } as const;
  const sessionsByColumnGrants = {
    module: 'huddle',
    rule: 'application-grant',
    object: 'sessions',
    reason: 'requests hold column grants only (revoking), never the hashes',
  } as const;

  it('passes the fixture modules that follow the rules', async () => {
    expect(await lintSchema(compliant, parseLintAllowList([vectorInPublic, sessionsByColumnGrants]))).toEqual(
      [],
    );
  });

  it('catches each rule on the module built to break it', async () => {
    const findings = await lintSchema(
      violating,
      parseLintAllowList([vectorInPublic, sessionsByColumnGrants]),
    );
    expect(findings.map((finding) => [finding.rule, finding.table, finding.object])).toEqual([
      ['timestamp-timezone', 'fixture_lint.children', 'created_at'],
      ['foreign-key-index', 'fixture_lint.children', 'children_parent_id_foreign'],
      ['redundant-index', 'fixture_lint.children', 'children_name_idx'],
      ['primary-key', 'fixture_lint.log_lines', 'log_lines'],
      ['application-grant', 'fixture_lint.log_lines', 'log_lines'],
      ['rls-policy', 'fixture_lint.secrets', 'secrets'],
      ['function-search-path', 'fixture_lint', 'shout(words text)'],
    ]);
    expect(
      (await lintSchema(violating)).filter((finding) => finding.rule === 'extension-in-public'),
    ).toMatchObject([{ module: 'huddle', object: 'vector' }]);
    expect(findings[2]!.message).toBe(
      'index children_name_idx (name) is redundant: children_name_created_at_idx (name, created_at) has the same leading columns',
    );
  });

  it('keeps an allowed redundant index quiet, and reports an allow-list entry that no longer applies', async () => {
    const allow = parseLintAllowList([
      { module: 'fixture_lint', index: 'children_name_idx', reason: 'named by the seed document' },
      { module: 'fixture_lint', index: 'gone_idx', reason: 'was needed once' },
      { module: 'not_composed', index: 'any_idx', reason: 'another app' },
      { module: 'huddle', rule: 'extension-in-public', object: 'vector', reason: 'checked' },
    ]);
    const findings = await lintSchema(violating, allow);
    expect(findings.filter((finding) => finding.rule === 'redundant-index')).toEqual([]);
    expect(
      findings.filter((finding) => finding.rule === 'stale-allow').map((finding) => finding.object),
    ).toEqual(['gone_idx']);
  });

  it('an allow-list entry without a reason is refused, naming the field', () => {
    expect(() => parseLintAllowList([{ module: 'm', index: 'i' }])).toThrow(InvalidInputError);
    expect(() => parseLintAllowList([{ module: 'm', index: 'i' }])).toThrow(/^0\.reason: /);
  });
});

describe('schema docs', () => {
  it('renders every domain module deterministically, with ERD, columns, rules and index kinds', async () => {
    const docs = await renderSchemaDocs(compliant);
    expect(docs.map((doc) => doc.module)).toEqual(['fixture_library', 'fixture_reviews', 'fixture_ledger']);
    expect(await renderSchemaDocs(compliant)).toEqual(docs);
    const library = docs[0]!.generated;
    expect(library.startsWith(GENERATED_START)).toBe(true);
    expect(library.endsWith(GENERATED_END)).toBe(true);
    expect(library).toContain('  authors ||--o{ books : "author_id"');
    expect(library).toContain("| `metadata` | jsonb | not null | `'{}'::jsonb` |");
    expect(library).toContain('on delete CASCADE, on update NO ACTION');
    expect(library).toContain('- **index** `books_embedding_hnsw`: `hnsw (embedding vector_cosine_ops)`');
    expect(library).toContain('- **check** `books_pages_check`: `CHECK ((pages > 0))`');
  });

  it('goes stale when a migration adds a column, and matches again once regenerated', async () => {
    const [initial] = reviewsModule.migrations;
    const before = await migratedDatabase([libraryModule, { ...reviewsModule, migrations: [initial!] }]);
    const committed = (await renderSchemaDocs(before)).find((doc) => doc.module === 'fixture_reviews')!;
    await before.close();
    // The same database, now with the module's second migration (it adds reviews.body).
    const after = await openDatabase({ modules: [libraryModule, reviewsModule], target: before.target });
    try {
      await expect(renderSchemaDocs(after)).rejects.toThrow(
        'migrations are pending for fixture_reviews: run huddle migrate up first',
      );
      await migrateUp(after);
      const regenerated = (await renderSchemaDocs(after)).find((doc) => doc.module === 'fixture_reviews')!;
      expect(committed.generated).not.toContain('`body`');
      expect(regenerated.generated).toContain('| `body` | text | null |  |');
      expect(mergeSchemaDoc('fixture_reviews', `x\n${committed.generated}\n`, regenerated.generated)).toBe(
        `x\n${regenerated.generated}\n`,
      );
    } finally {
      await after.close();
    }
  });

  it('keeps hand-written text: replaces only between the markers, or appends the section', () => {
    const generated = `${GENERATED_START}\nnew\n${GENERATED_END}`;
    expect(mergeSchemaDoc('poker', undefined, generated)).toBe(`# Schema \`poker\`\n\n${generated}\n`);
    expect(mergeSchemaDoc('poker', '# Poker\n\nHand-written.\n', generated)).toBe(
      `# Poker\n\nHand-written.\n\n${generated}\n`,
    );
    const existing = `# Poker\n\nBefore.\n\n${GENERATED_START}\nold\n${GENERATED_END}\n\nAfter.\n`;
    expect(mergeSchemaDoc('poker', existing, generated)).toBe(
      `# Poker\n\nBefore.\n\n${generated}\n\nAfter.\n`,
    );
    expect(() => mergeSchemaDoc('poker', `${GENERATED_END}\n${GENERATED_START}`, generated)).toThrow(
      /markers are not a pair/,
    );
  });
});

describe('maintenance', () => {
  it('vacuums and analyzes every table of the module, with timings', async () => {
    const reltuples = () =>
      compliant.orm.em
        .fork()
        .execute<{ relname: string; reltuples: number }[]>(
          "select relname, reltuples from pg_class where relnamespace = 'fixture_library'::regnamespace and relname in ('authors', 'books') order by 1",
        );
    expect((await reltuples()).map((row) => row.reltuples)).toEqual([-1, -1]);
    const results = await analyzeTables(compliant, { module: 'fixture_library' });
    expect(results.map((result) => [result.table, result.vacuumed])).toEqual([
      ['fixture_library.authors', true],
      ['fixture_library.books', true],
    ]);
    expect(results.every((result) => result.milliseconds >= 0)).toBe(true);
    expect((await reltuples()).map((row) => row.reltuples)).toEqual([0, 0]);
  });
});
