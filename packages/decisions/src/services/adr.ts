import {
  type ActorTransactions,
  type EntityManager,
  executePrepared,
  outputObjectSql,
  preparedStatement,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import { AdrParseError, type AdrRecord, adrFileName, parseAdr, renderAdr } from '../adr/markdown.ts';
import { DecisionsRelationship } from '../entities/relationship.ts';
import type { DecisionsResources } from '../resources.ts';
import type {
  AdrFilePage,
  AdrImportReport,
  DecisionDetail,
  ExportDecisionsInput,
  ImportDecisionsInput,
  RelationshipKind,
} from '../schemas.ts';
import { decisionText, embedTexts } from '../similarity/embedder.ts';
import { requireProjectRole } from './access.ts';
import { insertDecisions } from './decisions.ts';
import { decisionColumns } from './outputs.ts';
import { relationshipsJsonSql } from './relationships.ts';

interface ExportRow {
  decision: DecisionDetail;
  projectName: string;
  /** The decisions the anomalies name, for their file names. */
  anomalyTargets: { id: number; title: string }[];
}

/**
 * `exportDecisions`' statement: `$1` the actor, `$2` the project (null: every project the actor is a member
 * of), `$3` the page size and one, `$4` the cursor's decision id (null: first page).
 */
const exportStatement = preparedStatement<ExportRow>(
  'decisions.export_page',
  `select ${outputObjectSql<DecisionDetail>({ ...decisionColumns('d'), relationships: relationshipsJsonSql('d.id') })} as decision,
     p.name as "projectName",
     coalesce((select json_agg(${outputObjectSql<ExportRow['anomalyTargets'][number]>({ id: 'o.id', title: 'o.title' })}) from decisions.decisions o
               where o.id in (select (a ->> 'decisionId')::int from jsonb_array_elements(d.anomalies) a)), '[]')
       as "anomalyTargets"
   from decisions.decisions d
   join decisions.project_members m on m.project_id = d.project_id and m.user_id = $1
   join decisions.projects p on p.id = d.project_id
   where d.deleted_at is null and ($2::int is null or d.project_id = $2::int) and ($4::int is null or d.id > $4::int)
   order by d.id limit $3`,
);

/**
 * The decision log as ADR files (`renderAdr`: MADR style, one file per live decision, named by its id and
 * title), a page of files at a time in decision order: of one project (viewer, archived or not), or of every
 * project the actor is a member of, a folder per project. Links and anomalies name the other decision's file.
 */
export async function exportDecisions(
  em: EntityManager,
  actor: DecisionsActor,
  input: ExportDecisionsInput,
): Promise<AdrFilePage> {
  const { projectId, limit, cursor } = input;
  if (projectId !== undefined) await requireProjectRole(em, actor, projectId, 'viewer');
  const rows = await executePrepared(em, exportStatement, [
    actor.userId,
    projectId ?? null,
    limit + 1,
    cursor?.[0] ?? null,
  ]);
  return toPage(
    rows,
    limit,
    (row) => {
      const name = adrFileName(row.decision.id, row.decision.title);
      const folder = adrFileName(row.decision.projectId, row.projectName).replace(/\.md$/, '');
      return {
        path: projectId === undefined ? `${folder}/${name}` : name,
        content: renderAdr(toRecord(row)),
      };
    },
    (row) => [row.decision.id],
  );
}

function toRecord({ decision, anomalyTargets }: ExportRow): AdrRecord {
  const targets = new Map(anomalyTargets.map((target) => [target.id, adrFileName(target.id, target.title)]));
  return {
    title: decision.title,
    statement: decision.statement,
    rationale: decision.rationale,
    status: decision.status,
    decidedAt: decision.decidedAt,
    confidence: decision.confidence,
    impacts: decision.impacts,
    consensus: decision.consensus,
    links: decision.relationships.map((link) => ({
      kind: link.kind,
      outgoing: link.direction === 'outgoing',
      target: adrFileName(link.decisionId, link.title),
    })),
    anomalies: decision.anomalies.flatMap((anomaly) => {
      const target = targets.get(anomaly.decisionId);
      return target
        ? [{ kind: anomaly.kind, target, ...(anomaly.note !== undefined && { note: anomaly.note }) }]
        : [];
    }),
  };
}

/** Kinds whose links may not form a cycle (as `relateDecisions` refuses). */
const ACYCLIC_KINDS: readonly RelationshipKind[] = ['supersedes', 'depends_on'];

type FileReport = AdrImportReport['files'][number];
interface ParsedFile {
  index: number;
  path: string;
  record: AdrRecord;
  notes: string[];
}

/** The file name a link target names: the last path segment, without `./`, a `#fragment` or `.md`. */
function fileKey(target: string): string {
  const name = target.split('#')[0]!.split('/').at(-1) ?? '';
  return name.toLowerCase().replace(/\.md$/, '');
}

/** The ADR number a file name or target starts with (`0003-use-kafka`, `ADR-0003`, `3`), if any. */
function adrNumber(key: string): number | null {
  const digits = key.replace(/^adr-/, '').match(/^\d+/)?.[0];
  return digits === undefined ? null : Number(digits);
}

/** Finds the parsed file a link target names: by file name, else by ADR number. */
function resolverFor(parsed: readonly ParsedFile[]): (target: string) => ParsedFile | undefined {
  const byName = new Map(parsed.map((file) => [fileKey(file.path), file]));
  const byNumber = new Map<number, ParsedFile>();
  for (const file of parsed) {
    const number = adrNumber(fileKey(file.path));
    if (number !== null && !byNumber.has(number)) byNumber.set(number, file);
  }
  return (target) => {
    const key = fileKey(target);
    const number = adrNumber(key);
    return (
      byName.get(key) ?? (number !== null && /^(adr-)?\d+$/.test(key) ? byNumber.get(number) : undefined)
    );
  };
}

/** Files that describe a folder rather than a decision (log4brains' index and template, a README). */
const NOT_DECISIONS = new Set(['index', 'readme', 'template']);

/**
 * Reads each file (`parseAdr`), outside any transaction: a file that is not Markdown, names the folder, or
 * holds no decision is skipped with the field and the rule; so is a second file of the same path.
 */
function readFiles(files: ImportDecisionsInput['files']): { parsed: ParsedFile[]; reports: FileReport[] } {
  const parsed: ParsedFile[] = [];
  const seen = new Set<string>();
  const reports = files.map((file, index): FileReport => {
    const skip = (reason: string): FileReport => ({
      path: file.path,
      outcome: 'skipped',
      decisionId: null,
      reason: `${file.path}: ${reason}`,
      notes: [],
    });
    if (!file.path.toLowerCase().endsWith('.md')) return skip('path: not a Markdown (.md) file');
    if (NOT_DECISIONS.has(fileKey(file.path)))
      return skip('path: the folder’s index, template or readme, not a decision');
    if (seen.has(file.path)) return skip('path: appears more than once in this import');
    seen.add(file.path);
    try {
      const { record, notes } = parseAdr(file.content);
      parsed.push({ index, path: file.path, record, notes });
      return { path: file.path, outcome: 'imported', decisionId: null, reason: null, notes };
    } catch (error) {
      if (error instanceof AdrParseError) return skip(error.message);
      throw error;
    }
  });
  return { parsed, reports };
}

/**
 * Imports a folder of ADR files (MADR, log4brains, adr-tools; see `parseAdr`) into a project (member), with a
 * report per file: imported (the new decision; notes on what was taken other than as written) or skipped
 * (`<path>: <field>: <rule>`). A file whose title a live decision of the project already has is skipped, so
 * importing a folder again adds nothing twice. Links and anomalies naming another imported file are kept (a
 * link that would close a supersedes or depends-on cycle is not made); ones naming a file outside this import
 * are noted and left out. Parsing and embedding run between two short transactions.
 */
export async function importDecisions(
  transactions: ActorTransactions<DecisionsActor>,
  input: ImportDecisionsInput,
  { embedder }: DecisionsResources,
): Promise<AdrImportReport> {
  const { projectId, files } = input;
  await transactions((em, actor) => requireProjectRole(em, actor, projectId, 'member'));
  const { parsed: read, reports } = readFiles(files);
  const embeddings = await embedTexts(
    embedder,
    read.map(({ record }) => decisionText(record)),
  );
  const vectorOf = new Map(read.map((file, index) => [file, embeddings.vectors[index]!]));
  await transactions(async (em, actor) => {
    await requireProjectRole(em, actor, projectId, 'member');
    const existing: { title: string; id: number }[] = await em.execute(
      'select lower(title) as title, min(id) as id from decisions.decisions where project_id = ? and deleted_at is null group by lower(title)',
      [projectId],
    );
    const taken = new Map(existing.map((row) => [row.title, `decision ${row.id} of project ${projectId}`]));
    const parsed = read.filter((file) => {
      const key = file.record.title.toLowerCase();
      const holder = taken.get(key);
      if (holder !== undefined) {
        reports[file.index] = {
          ...reports[file.index]!,
          outcome: 'skipped',
          reason: `${file.path}: title: ${holder} already has this title`,
        };
        return false;
      }
      taken.set(key, `${file.path} of this import`);
      return true;
    });
    if (parsed.length === 0) return;
    const ids: { id: number }[] = await em.execute(
      `select nextval('decisions.decisions_id_seq')::int as id from generate_series(1, ?)`,
      [parsed.length],
    );
    const idOf = new Map(parsed.map((file, position) => [file, ids[position]!.id]));
    const resolve = resolverFor(parsed);
    const links = linksOf(parsed, resolve, idOf);
    await insertDecisions(
      em,
      parsed.map((file) => ({
        id: idOf.get(file)!,
        projectId,
        transcriptId: null,
        title: file.record.title,
        statement: file.record.statement,
        rationale: file.record.rationale,
        confidence: file.record.confidence,
        decidedAt: new Date(file.record.decidedAt),
        impacts: file.record.impacts,
        consensus: file.record.consensus,
        status: file.record.status,
        anomalies: file.record.anomalies.flatMap((anomaly) => {
          const target = resolve(anomaly.target);
          if (!target || target === file) {
            file.notes.push(`anomalies: ${anomaly.target} is not among the imported files; anomaly left out`);
            return [];
          }
          return [
            {
              kind: anomaly.kind,
              decisionId: idOf.get(target)!,
              ...(anomaly.note !== undefined && { note: anomaly.note }),
            },
          ];
        }),
      })),
      { vectors: parsed.map((file) => vectorOf.get(file)!), model: embeddings.model },
    );
    for (const link of links) {
      em.create(DecisionsRelationship, {
        fromDecision: link.from,
        toDecision: link.to,
        kind: link.kind,
        createdBy: actor.userId,
      });
    }
    await em.flush();
    for (const file of parsed) {
      reports[file.index] = { ...reports[file.index]!, decisionId: idOf.get(file)!, notes: file.notes };
    }
  });
  const imported = reports.filter((report) => report.outcome === 'imported').length;
  return { files: reports, imported, skipped: reports.length - imported };
}

/**
 * The links between imported files, each once, from its source to its target decision (new ids): a target
 * outside this import, a link to the file itself, or one closing a cycle of its kind is noted on the file.
 */
function linksOf(
  parsed: readonly ParsedFile[],
  resolve: (target: string) => ParsedFile | undefined,
  idOf: ReadonlyMap<ParsedFile, number>,
): { from: number; to: number; kind: RelationshipKind }[] {
  const links: { from: number; to: number; kind: RelationshipKind }[] = [];
  const reaches = (start: number, goal: number, kind: RelationshipKind): boolean => {
    const stack = [start];
    const visited = new Set<number>();
    while (stack.length > 0) {
      const at = stack.pop()!;
      if (at === goal) return true;
      if (visited.has(at)) continue;
      visited.add(at);
      for (const link of links) if (link.kind === kind && link.from === at) stack.push(link.to);
    }
    return false;
  };
  for (const file of parsed) {
    for (const link of file.record.links) {
      const other = resolve(link.target);
      const label = `${link.kind}${link.outgoing ? '' : ' (incoming)'}`;
      if (!other || other === file) {
        file.notes.push(`${label}: ${link.target} is not among the other imported files; no link made`);
        continue;
      }
      const [from, to] = link.outgoing
        ? [idOf.get(file)!, idOf.get(other)!]
        : [idOf.get(other)!, idOf.get(file)!];
      if (links.some((made) => made.from === from && made.to === to && made.kind === link.kind)) continue;
      if (ACYCLIC_KINDS.includes(link.kind) && reaches(to, from, link.kind)) {
        file.notes.push(`${label}: the link to ${link.target} would close a cycle; no link made`);
        continue;
      }
      links.push({ from, to, kind: link.kind });
    }
  }
  return links;
}
