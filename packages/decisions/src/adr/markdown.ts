import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import {
  type Anomaly,
  anomalySchema,
  type Consensus,
  createDecisionInputSchema,
  DECISION_STATUSES,
  type DecisionStatus,
  type Impact,
  impactSchema,
  type RelationshipKind,
} from '../schemas.ts';

/** The fields of a decision an ADR file gives, checked by the rules a created decision follows. */
const decisionFieldsSchema = createDecisionInputSchema.pick({
  title: true,
  statement: true,
  rationale: true,
  confidence: true,
  impacts: true,
  consensus: true,
});

/**
 * Decisions as Markdown architecture decision records, one file each, and back. Files are written in the
 * MADR style (YAML front matter with status, date, deciders and the links; `# title`, `## Context and
 * Problem Statement` holding the rationale, `## Decision Outcome` holding the statement) with the fields
 * MADR has no place for (confidence, impacts, who was against or abstained, anomalies) as extra front-matter
 * keys, so an export imports back without loss. Reading also takes log4brains' header list
 * (`- Status: accepted`) and adr-tools' layout (`Date:` line, `## Status` section with link lines such as
 * `Superseded by [3. Title](0003-title.md)`).
 */

/** A link between two ADR files as front matter names it: its kind, and whether this file is its source. */
const LINK_KEYS = {
  supersedes: { kind: 'supersedes', outgoing: true },
  'superseded-by': { kind: 'supersedes', outgoing: false },
  amends: { kind: 'amends', outgoing: true },
  'amended-by': { kind: 'amends', outgoing: false },
  'depends-on': { kind: 'depends_on', outgoing: true },
  'depended-on-by': { kind: 'depends_on', outgoing: false },
  'conflicts-with': { kind: 'conflicts_with', outgoing: true },
  'relates-to': { kind: 'relates_to', outgoing: true },
} as const satisfies Record<string, { kind: RelationshipKind; outgoing: boolean }>;
type LinkKey = keyof typeof LINK_KEYS;

/** adr-tools' and log4brains' link lines ("Superseded by [..](..)"), by their lower-cased verb. */
const LINK_PHRASES: Record<string, LinkKey> = {
  supersedes: 'supersedes',
  'superseded by': 'superseded-by',
  amends: 'amends',
  'amended by': 'amended-by',
  'depends on': 'depends-on',
  'conflicts with': 'conflicts-with',
  'relates to': 'relates-to',
  'related to': 'relates-to',
};

const CONTEXT_SECTIONS = ['context and problem statement', 'context'];
const DECISION_SECTIONS = ['decision outcome', 'decision'];

/** A decision as one ADR file holds it; links and anomalies name other files (`AdrLink.target`). */
export interface AdrRecord {
  title: string;
  statement: string;
  rationale: string | null;
  status: DecisionStatus;
  decidedAt: string;
  confidence: number;
  impacts: Impact[];
  consensus: Consensus;
  links: AdrLink[];
  anomalies: { kind: Anomaly['kind']; target: string; note?: string }[];
}

export interface AdrLink {
  kind: RelationshipKind;
  /** True when this file's decision is the link's source (`supersedes`), false for its target (`superseded-by`). */
  outgoing: boolean;
  /** The other file: a path, a file name, or an ADR number (`ADR-0003`, `3`). */
  target: string;
}

/** The file name of a decision: its id, four digits at least, and its title in lower-case words. */
export function adrFileName(id: number, title: string): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 60)
    .replace(/^-+|-+$/g, '');
  return `${String(id).padStart(4, '0')}-${slug || 'decision'}.md`;
}

/**
 * A Markdown line that would read as a heading (or as an escaped one) gets one more backslash, so section
 * boundaries stay where the writer put them; `unescapeLines` takes exactly one away.
 */
function escapeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => (/^\\*#/.test(line) ? `\\${line}` : line))
    .join('\n');
}

function unescapeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => (/^\\+#/.test(line) ? line.slice(1) : line))
    .join('\n');
}

/** Renders one decision as an ADR file (MADR style, see above). */
export function renderAdr(record: AdrRecord): string {
  const frontMatter: Record<string, unknown> = {
    status: record.status,
    date: record.decidedAt,
    deciders: record.consensus.for,
  };
  for (const [key, { kind, outgoing }] of Object.entries(LINK_KEYS)) {
    const targets = record.links
      .filter((link) => link.kind === kind && link.outgoing === outgoing)
      .map((link) => link.target);
    if (targets.length > 0) frontMatter[key] = targets;
  }
  frontMatter.confidence = record.confidence;
  if (record.consensus.against.length > 0) frontMatter.against = record.consensus.against;
  if (record.consensus.abstain.length > 0) frontMatter.abstain = record.consensus.abstain;
  if (record.impacts.length > 0) frontMatter.impacts = record.impacts;
  if (record.anomalies.length > 0) frontMatter.anomalies = record.anomalies;
  const sections = [
    `# ${record.title}`,
    ...(record.rationale === null ? [] : ['## Context and Problem Statement', escapeLines(record.rationale)]),
    '## Decision Outcome',
    escapeLines(record.statement),
  ];
  return `---\n${stringifyYaml(frontMatter)}---\n\n${sections.join('\n\n')}\n`;
}

/** Why a file is not a decision: the field and the rule, as the import report gives them. */
export class AdrParseError extends Error {
  readonly field: string;
  constructor(field: string, rule: string) {
    super(`${field}: ${rule}`);
    this.field = field;
  }
}

/** What reading a file found: the record, and what it took other than as written. */
export interface ParsedAdr {
  record: AdrRecord;
  notes: string[];
}

const stringList = z.union([
  z.array(z.string()),
  z.string().transform((value) =>
    value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  ),
]);
const frontMatterSchema = z
  .object({
    title: z.string().optional(),
    status: z.string().optional(),
    date: z.string().optional(),
    deciders: stringList.optional(),
    'decision-makers': stringList.optional(),
    against: stringList.optional(),
    abstain: stringList.optional(),
    confidence: z.number().min(0).max(1).optional(),
    impacts: z.array(impactSchema).max(100).optional(),
    anomalies: z
      .array(z.object({ kind: anomalySchema.shape.kind, target: z.string(), note: z.string().optional() }))
      .max(100)
      .optional(),
    ...Object.fromEntries(Object.keys(LINK_KEYS).map((key) => [key, stringList.optional()])),
  })
  .loose();
type FrontMatter = z.infer<typeof frontMatterSchema> & Partial<Record<LinkKey, string[]>>;

/** Splits `--- yaml ---` from the rest, if the file starts with front matter. */
function splitFrontMatter(content: string): { yaml: string | null; body: string } {
  if (!content.startsWith('---\n')) return { yaml: null, body: content };
  const end = content.indexOf('\n---', 3);
  if (end < 0) throw new AdrParseError('front matter', 'opens with --- but never closes');
  const after = content.indexOf('\n', end + 4);
  return { yaml: content.slice(4, end + 1), body: after < 0 ? '' : content.slice(after + 1) };
}

function readFrontMatter(yaml: string | null): FrontMatter {
  if (yaml === null) return {};
  let data: unknown;
  try {
    data = parseYaml(yaml, { maxAliasCount: 20 });
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    throw new AdrParseError('front matter', `is not valid YAML (${reason})`);
  }
  if (data === null || data === undefined) return {};
  const parsed = frontMatterSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AdrParseError(issue.path.join('.') || 'front matter', issue.message);
  }
  return parsed.data as FrontMatter;
}

interface Body {
  title: string | null;
  /** Lines between the title and the first section (log4brains' list, adr-tools' `Date:`). */
  header: string[];
  /** Level-two sections by lower-cased heading, in order. */
  sections: { heading: string; name: string; text: string }[];
}

function readBody(body: string): Body {
  let title: string | null = null;
  const header: string[] = [];
  const sections: { heading: string; lines: string[] }[] = [];
  for (const line of body.split('\n')) {
    if (title === null && line.startsWith('# ')) title = line.slice(2).trim();
    else if (line.startsWith('## ')) sections.push({ heading: line.slice(3).trim(), lines: [] });
    else if (sections.length > 0) sections.at(-1)!.lines.push(line);
    else if (title !== null) header.push(line);
  }
  return {
    title,
    header,
    sections: sections.map(({ heading, lines }) => ({
      heading,
      name: heading.toLowerCase(),
      text: unescapeLines(lines.join('\n')).trim(),
    })),
  };
}

/** `Key: value` from a header line (`- Status: accepted`, `* Date: …`, `Date: …`). */
function headerField(line: string): { key: string; value: string } | null {
  const item = line.replace(/^\s*[-*]\s+/, '');
  const colon = item.indexOf(':');
  if (colon <= 0) return null;
  return { key: item.slice(0, colon).trim().toLowerCase(), value: item.slice(colon + 1).trim() };
}

/** A link line (`Superseded by [3. Title](0003-title.md)`), if the line is one. */
function linkLine(line: string): { key: LinkKey; target: string } | null {
  const item = line.trim().replace(/^[-*]\s+/, '');
  const open = item.indexOf('[');
  const middle = item.indexOf('](', open);
  const close = item.indexOf(')', middle);
  if (open <= 0 || middle < 0 || close < 0) return null;
  const key = LINK_PHRASES[item.slice(0, open).trim().toLowerCase()];
  return key ? { key, target: item.slice(middle + 2, close).trim() } : null;
}

/** A status as MADR, log4brains or adr-tools write it; `superseded by ADR-0005` also names a link. */
function readStatus(value: string): { status: DecisionStatus; supersededBy: string | null } {
  const words = value.trim().toLowerCase();
  if (words === 'draft') return { status: 'proposed', supersededBy: null };
  if (words.startsWith('superseded')) {
    const rest = value.trim().slice('superseded'.length).trim();
    const target = rest.toLowerCase().startsWith('by ') ? rest.slice(3).trim() : '';
    return {
      status: 'superseded',
      supersededBy: target ? (linkLine(`Superseded by ${target}`)?.target ?? target) : null,
    };
  }
  const status = DECISION_STATUSES.find((known) => known === words);
  if (!status) {
    throw new AdrParseError(
      'status',
      `"${value.slice(0, 40)}" is not one of ${DECISION_STATUSES.join(', ')} (or draft)`,
    );
  }
  return { status, supersededBy: null };
}

/** A `date` as ISO 8601: a day (`2026-03-01`, midnight UTC) or a timestamp. */
function readDate(value: string): string {
  const day = value.trim();
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(day) ? `${day}T00:00:00Z` : day);
  // PostgreSQL's timestamps have no year 0, which Date accepts.
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) {
    throw new AdrParseError('date', 'must be a day (YYYY-MM-DD) or an ISO 8601 timestamp, years 1 to 9999');
  }
  return date.toISOString();
}

/**
 * Reads one ADR file (MADR with or without front matter, log4brains, adr-tools). Throws an AdrParseError
 * naming the field when the file holds no decision (no title, no decision section) or a field is malformed.
 */
export function parseAdr(content: string): ParsedAdr {
  const notes: string[] = [];
  const { yaml, body: rawBody } = splitFrontMatter(content.replaceAll('\r\n', '\n'));
  const front = readFrontMatter(yaml);
  const body = readBody(rawBody);
  const header = new Map(
    body.header.flatMap((line) => {
      const field = headerField(line);
      return field ? [[field.key, field.value] as const] : [];
    }),
  );
  const section = (names: readonly string[]) => body.sections.find((entry) => names.includes(entry.name));
  const statusSection = section(['status']);
  const statusLines =
    statusSection?.text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean) ?? [];

  const rawTitle = front.title ?? body.title;
  if (!rawTitle) throw new AdrParseError('title', 'no "# " heading');
  // adr-tools numbers its titles ("# 3. Use Kafka").
  const title = rawTitle.replace(/^\d+\.\s+/, '');
  const statement = section(DECISION_SECTIONS)?.text;
  if (!statement)
    throw new AdrParseError('statement', 'no "## Decision Outcome" or "## Decision" section with text');
  const rationale = section(CONTEXT_SECTIONS)?.text || null;

  const links: AdrLink[] = [];
  const addLink = (key: LinkKey, target: string) => {
    const { kind, outgoing } = LINK_KEYS[key];
    if (!links.some((link) => link.kind === kind && link.outgoing === outgoing && link.target === target)) {
      links.push({ kind, outgoing, target });
    }
  };
  for (const key of Object.keys(LINK_KEYS) as LinkKey[])
    for (const target of front[key] ?? []) addLink(key, target);
  for (const line of [...statusLines, ...(section(['links'])?.text.split('\n') ?? [])]) {
    const link = linkLine(line);
    if (link) addLink(link.key, link.target);
  }

  const statusText = front.status ?? header.get('status') ?? statusLines.find((line) => !linkLine(line));
  let status: DecisionStatus = 'accepted';
  if (statusText === undefined) notes.push('status: none given; imported as accepted');
  else {
    const read = readStatus(statusText);
    status = read.status;
    if (read.supersededBy) addLink('superseded-by', read.supersededBy);
  }

  const dateText = front.date ?? header.get('date');
  let decidedAt: string;
  if (dateText === undefined) {
    decidedAt = new Date().toISOString();
    notes.push('date: none given; imported as today');
  } else decidedAt = readDate(dateText);

  const known = new Set([...CONTEXT_SECTIONS, ...DECISION_SECTIONS, 'status', 'links']);
  const dropped = body.sections.filter((entry) => !known.has(entry.name)).map((entry) => entry.heading);
  if (dropped.length > 0) notes.push(`sections not imported (no field holds them): ${dropped.join(', ')}`);

  const fields = decisionFieldsSchema.safeParse({
    title,
    statement,
    rationale,
    confidence: front.confidence ?? 1,
    impacts: front.impacts ?? [],
    consensus: {
      for: front.deciders ?? front['decision-makers'] ?? stringList.parse(header.get('deciders') ?? ''),
      against: front.against ?? [],
      abstain: front.abstain ?? [],
    },
  });
  if (!fields.success) {
    const issue = fields.error.issues[0]!;
    throw new AdrParseError(issue.path.join('.'), issue.message);
  }
  return {
    record: {
      ...fields.data,
      rationale: fields.data.rationale ?? null,
      status,
      decidedAt,
      links,
      anomalies: front.anomalies ?? [],
    },
    notes,
  };
}
