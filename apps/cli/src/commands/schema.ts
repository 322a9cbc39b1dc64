import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { type CliIo, filePath, output, withDatabase } from '../context.ts';

const DEFAULT_ALLOW_LIST = 'docs/schema/lint-allow.json';

/** A file's text, or undefined when it does not exist. */
async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function schemaCommand(io: CliIo) {
  const schema = new Command('schema').description('schema reference docs and lint rules');

  schema
    .command('docs')
    .description(
      'write docs/schema/<module>.md from the live catalog: only the generated section between the markers is replaced',
    )
    .option('--out <dir>', 'where the docs live', 'docs/schema')
    .option('--check', 'write nothing; fail if any doc is stale')
    .option('--json', 'print the result as JSON')
    .action((options) =>
      withDatabase(io, async (db) => {
        const { mergeSchemaDoc, renderSchemaDocs } = await import('@huddle/db');
        const results: { file: string; status: 'up to date' | 'updated' | 'stale' }[] = [];
        for (const { module, generated } of await renderSchemaDocs(db)) {
          const file = path.join(options.out, `${module}.md`);
          const existing = await readIfExists(filePath(io, file));
          const next = mergeSchemaDoc(module, existing, generated);
          if (next === existing) {
            results.push({ file, status: 'up to date' });
          } else if (options.check) {
            results.push({ file, status: 'stale' });
          } else {
            await mkdir(filePath(io, options.out), { recursive: true });
            await writeFile(filePath(io, file), next);
            results.push({ file, status: 'updated' });
          }
        }
        output(io, options.json, results, () =>
          results.map((result) => `${result.status}: ${result.file}`).join('\n'),
        );
        const stale = results.filter((result) => result.status === 'stale').map((result) => result.file);
        if (stale.length > 0) {
          throw new Error(`schema docs are stale: ${stale.join(', ')} (run huddle schema docs)`);
        }
      }),
    );

  schema
    .command('lint')
    .description(
      'check every module: indexed foreign keys, timestamptz, primary keys, RLS policies, no redundant indexes',
    )
    .option('--allow <file>', 'allow list of redundant indexes to keep, with reasons', DEFAULT_ALLOW_LIST)
    .option('--json', 'print the findings as JSON')
    .action((options) =>
      withDatabase(io, async (db) => {
        const { ConfigurationError, lintSchema, parseLintAllowList } = await import('@huddle/db');
        const text = await readIfExists(filePath(io, options.allow));
        if (text === undefined && options.allow !== DEFAULT_ALLOW_LIST) {
          throw new ConfigurationError(`--allow: ${options.allow} does not exist`);
        }
        let allow: unknown = [];
        try {
          allow = text === undefined ? [] : JSON.parse(text);
        } catch (error) {
          throw new ConfigurationError(`--allow: ${options.allow} is not JSON: ${(error as Error).message}`);
        }
        const findings = await lintSchema(db, parseLintAllowList(allow));
        output(io, options.json, findings, () =>
          findings.length === 0
            ? 'no findings'
            : findings.map((finding) => `${finding.table}: ${finding.rule}: ${finding.message}`).join('\n'),
        );
        if (findings.length > 0) throw new Error(`schema lint: ${findings.length} finding(s)`);
      }),
    );

  return schema;
}
