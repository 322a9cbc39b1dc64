import { InvalidInputError } from '@huddle/db';
import { CsvError } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { type ImportedStoryRow, importedStoryRowSchema, MAX_IMPORT_ROWS } from '../schemas.ts';

/** The columns an import reads; `title` is required. */
const IMPORT_COLUMNS = ['title', 'description'] as const;
/** At most this many row errors are listed in a refusal (the count says how many more there were). */
const LISTED_ERRORS = 20;

function refuse(problems: string[]): InvalidInputError {
  const listed = problems.slice(0, LISTED_ERRORS);
  const more = problems.length - listed.length;
  const message = `csv: ${listed.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
  return new InvalidInputError(message, { field: 'csv' });
}

/**
 * The stories of an import's CSV (csv-parse, a state machine: linear in the input), or a refusal naming
 * every wrong row and field. Rows are numbered as a spreadsheet shows them: the header is row 1.
 */
export function parseStoriesCsv(csv: string): ImportedStoryRow[] {
  let records: string[][];
  try {
    records = parse(csv, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      // The header, the rows allowed and one more to tell that there are too many.
      to: MAX_IMPORT_ROWS + 2,
    });
  } catch (error) {
    if (error instanceof CsvError) throw refuse([`is not valid CSV (${error.message})`]);
    throw error;
  }
  const [header, ...rows] = records;
  if (!header) throw refuse(['needs a header row naming the columns (title, description)']);
  const columns = header.map((name) => name.trim().toLowerCase());
  const unknown = columns.filter((name) => !(IMPORT_COLUMNS as readonly string[]).includes(name));
  const problems: string[] = [];
  if (unknown.length > 0) {
    problems.push(
      `row 1: unknown column(s) ${unknown.map((name) => JSON.stringify(name)).join(', ')} (use title, description)`,
    );
  }
  if (!columns.includes('title')) problems.push('row 1: needs a title column');
  if (new Set(columns).size !== columns.length) problems.push('row 1: names a column twice');
  if (rows.length === 0) problems.push('has no stories below its header');
  if (rows.length > MAX_IMPORT_ROWS) problems.push(`has more than ${MAX_IMPORT_ROWS} stories (split it)`);
  if (problems.length > 0) throw refuse(problems);
  const stories: ImportedStoryRow[] = [];
  rows.forEach((fields, index) => {
    const row = index + 2;
    if (fields.length !== columns.length) {
      problems.push(`row ${row}: has ${fields.length} fields, the header names ${columns.length}`);
      return;
    }
    const values = Object.fromEntries(
      columns.map((name, column) => [
        name,
        fields[column] === '' && name !== 'title' ? undefined : fields[column],
      ]),
    );
    const parsed = importedStoryRowSchema.safeParse(values);
    if (parsed.success) stories.push(parsed.data);
    else
      for (const issue of parsed.error.issues)
        problems.push(`row ${row} ${issue.path.join('.')}: ${issue.message}`);
  });
  if (problems.length > 0) throw refuse(problems);
  return stories;
}
