import type { Database } from '../database.ts';
import { ConfigurationError } from '../errors.ts';
import { migrationStatus } from '../migrations.ts';
import { platformModule } from '../platform.ts';
import { type CatalogTable, readCatalog } from './introspect.ts';
import { sqlAutocommit } from './sql.ts';

export const GENERATED_START = '<!-- huddle:generated:start -->';
export const GENERATED_END = '<!-- huddle:generated:end -->';

const code = (text: string) => `\`${text}\``;
const cell = (text: string) => text.replaceAll('|', '\\|');
const columnList = (columns: readonly (string | null)[]) =>
  columns.map((column) => code(column ?? '<expression>')).join(', ');

/** A Mermaid entity name: the table's own name in its module, `schema_table` for another module's. */
function entity(module: string, schema: string, table: string): string {
  return schema === module ? table : `${schema}_${table}`;
}

function erDiagram(module: string, tables: CatalogTable[]): string[] {
  const lines = ['```mermaid', 'erDiagram'];
  for (const table of tables) {
    const foreign = new Set(table.foreignKeys.flatMap((foreignKey) => foreignKey.columns));
    const unique = new Set(
      table.constraints
        .filter((constraint) => constraint.kind === 'unique' && constraint.columns.length === 1)
        .flatMap((constraint) => constraint.columns),
    );
    lines.push(`  ${entity(module, table.schema, table.name)} {`);
    for (const column of table.columns) {
      const keys = [
        table.primaryKey?.includes(column.name) && 'PK',
        foreign.has(column.name) && 'FK',
        unique.has(column.name) && 'UK',
      ].filter(Boolean);
      lines.push(`    ${column.shortType} ${column.name}${keys.length > 0 ? ` ${keys.join(', ')}` : ''}`);
    }
    lines.push('  }');
  }
  for (const table of tables) {
    for (const foreignKey of table.foreignKeys) {
      const optional = foreignKey.columns.some(
        (name) => table.columns.find((column) => column.name === name)?.nullable,
      );
      const oneToOne = table.constraints.some(
        (constraint) =>
          (constraint.kind === 'unique' || constraint.kind === 'primary key') &&
          constraint.columns.join() === foreignKey.columns.join(),
      );
      const parent = entity(module, foreignKey.referencedSchema, foreignKey.referencedTable);
      const child = entity(module, table.schema, table.name);
      lines.push(
        `  ${parent} ${optional ? '|o' : '||'}--${oneToOne ? 'o|' : 'o{'} ${child} : "${foreignKey.columns.join(', ')}"`,
      );
    }
  }
  lines.push('```');
  return lines;
}

function tableSection(table: CatalogTable): string[] {
  const lines = [
    `#### ${code(`${table.schema}.${table.name}`)}`,
    '',
    '| Column | Type | Null | Default |',
    '| --- | --- | --- | --- |',
    ...table.columns.map(
      (column) =>
        `| ${code(column.name)} | ${cell(column.type)} | ${column.nullable ? 'null' : 'not null'} | ${
          column.default === null ? '' : cell(code(column.default))
        }${column.generated ? ' (generated)' : ''} |`,
    ),
    '',
  ];
  const items: string[] = [];
  for (const constraint of table.constraints) {
    const what =
      constraint.kind === 'check' || constraint.kind === 'exclusion'
        ? code(constraint.definition)
        : `(${columnList(constraint.columns)})`;
    items.push(`- **${constraint.kind}** ${code(constraint.name)}: ${what}`);
  }
  for (const foreignKey of table.foreignKeys) {
    items.push(
      `- **foreign key** ${code(foreignKey.name)}: (${columnList(foreignKey.columns)}) → ${code(
        `${foreignKey.referencedSchema}.${foreignKey.referencedTable}`,
      )} (${columnList(foreignKey.referencedColumns)}), on delete ${foreignKey.onDelete}, on update ${
        foreignKey.onUpdate
      }${foreignKey.deferrable ? ', deferrable' : ''}`,
    );
  }
  // An index implementing a primary key, unique or exclusion constraint is listed as that constraint.
  for (const index of table.indexes.filter((candidate) => candidate.constraint === null)) {
    const using = index.definition.replace(/^.* USING /, '');
    const kind = index.unique ? 'unique index' : 'index';
    items.push(`- **${kind}** ${code(index.name)}: ${code(using)}${index.predicate ? ' (partial)' : ''}`);
  }
  if (table.rowSecurity) items.push('- **row-level security**: enabled');
  for (const policy of table.policies) {
    const clauses = [
      `for ${policy.command}`,
      `to ${policy.roles.join(', ')}`,
      policy.using && `using ${policy.using}`,
      policy.withCheck && `with check ${policy.withCheck}`,
    ].filter(Boolean);
    items.push(
      `- **policy** ${code(policy.name)} (${policy.permissive.toLowerCase()}): ${code(clauses.join(' '))}`,
    );
  }
  for (const trigger of table.triggers) {
    items.push(`- **trigger** ${code(trigger.name)}: ${code(trigger.definition)}`);
  }
  return [...lines, ...items, ''];
}

/**
 * The generated section of `docs/schema/<module>.md`, markers included: an ERD and every table's columns,
 * constraints, foreign keys with their rules, indexes, policies and triggers, as the catalog has them.
 * Deterministic (everything sorted by name), so a stale committed doc shows as a difference.
 */
export function renderSchemaDoc(module: string, tables: CatalogTable[]): string {
  const foreignKeys = tables.reduce((count, table) => count + table.foreignKeys.length, 0);
  return [
    GENERATED_START,
    `<!-- Generated by \`huddle schema docs\` from the migrated database. Edit outside these markers: this part is rewritten. -->`,
    '',
    `## Schema reference: ${code(module)}`,
    '',
    `**Tables**: ${tables.length} · **Foreign keys**: ${foreignKeys}`,
    '',
    '### Entity relationship diagram',
    '',
    ...erDiagram(module, tables),
    '',
    '### Tables',
    '',
    ...tables.flatMap(tableSection),
    GENERATED_END,
  ].join('\n');
}

/**
 * `existing` with its generated section replaced by `generated`; hand-written text is kept as it is. A doc
 * without markers gets the section appended, a missing doc becomes a title and the section.
 */
export function mergeSchemaDoc(module: string, existing: string | undefined, generated: string): string {
  if (existing === undefined) return `# Schema \`${module}\`\n\n${generated}\n`;
  const start = existing.indexOf(GENERATED_START);
  const end = existing.indexOf(GENERATED_END);
  if (start === -1 && end === -1) return `${existing.trimEnd()}\n\n${generated}\n`;
  if (start === -1 || end < start) {
    throw new ConfigurationError(
      `docs/schema/${module}.md: its ${GENERATED_START} and ${GENERATED_END} markers are not a pair`,
    );
  }
  return existing.slice(0, start) + generated + existing.slice(end + GENERATED_END.length);
}

/**
 * The generated section for every domain module (the platform module has no tables), from the live catalog.
 * Refuses a database with pending migrations: its docs would describe a schema the code no longer has.
 */
export async function renderSchemaDocs(db: Database): Promise<{ module: string; generated: string }[]> {
  const pending = (await migrationStatus(db)).filter((status) => status.pending.length > 0);
  if (pending.length > 0) {
    throw new ConfigurationError(
      `migrations are pending for ${pending.map((status) => status.module).join(', ')}: run huddle migrate up first`,
    );
  }
  const modules = db.modules.filter((module) => module.name !== platformModule.name);
  const tables = await readCatalog(
    sqlAutocommit(db),
    modules.map((module) => module.name),
  );
  return modules.map((module) => ({
    module: module.name,
    generated: renderSchemaDoc(
      module.name,
      tables.filter((table) => table.schema === module.name),
    ),
  }));
}
