import {
  archive,
  checkIn,
  createdAt,
  defineEntity,
  isoTimestampSql,
  p,
  softDelete,
  timestamps,
  touchUpdatedAt,
  VectorType,
} from '@huddle/db';
import type { TriggerDef } from '@mikro-orm/core';

import {
  type Anomaly,
  type Consensus,
  DECISION_STATUSES,
  type DecisionStatus,
  EMBEDDING_DIMENSIONS,
  type Impact,
} from '../schemas.ts';
import { DecisionsProject } from './project.ts';
import { DecisionsTranscript } from './transcript.ts';

/**
 * The text-search document of the decisions.decisions row (aliased `alias`, if given): title (weight A), statement (B)
 * and rationale (C), English stemming. `idx_decisions_search` indexes exactly this expression, so a search
 * must write it the same way to use the index.
 */
export function decisionSearchVectorSql(alias?: string): string {
  const column = (name: string) => (alias ? `${alias}.${name}` : name);
  return `(setweight(to_tsvector('english'::regconfig, (${column('title')})::text), 'A'::"char") || setweight(to_tsvector('english'::regconfig, ${column('statement')}), 'B'::"char") || setweight(to_tsvector('english'::regconfig, COALESCE(${column('rationale')}, ''::text)), 'C'::"char"))`;
}

/** The fields a revision records (`decisionVersionSchema`), as SQL over the trigger's row `row` (old or new). */
function versionSql(row: 'old' | 'new'): string {
  return `jsonb_build_object('title', ${row}.title, 'statement', ${row}.statement, 'rationale', ${row}.rationale, 'status', ${row}.status, 'confidence', ${row}.confidence, 'decidedAt', ${isoTimestampSql(`${row}.decided_at`)}, 'impacts', ${row}.impacts, 'consensus', ${row}.consensus, 'anomalies', ${row}.anomalies, 'transcriptId', ${row}.transcript_id, 'deletedAt', ${isoTimestampSql(`${row}.deleted_at`)})`;
}

/**
 * Every update that changes a recorded field (not the embedding or updated_at) keeps the version before it
 * in decisions.decision_revisions, whatever path made the change (a service, a job, raw SQL): the field
 * names it changed, the acting user of the request (`app.user_id`; none for an operator) and the time.
 * Its function runs as the owner (`security definer`, set in the migration), since requests may not write
 * revisions themselves.
 */
const recordRevision: TriggerDef = {
  name: 'record_revision',
  timing: 'after',
  events: ['update'],
  body: `insert into decisions.decision_revisions (decision_id, revision, changed_by, changed_fields, previous) select old.id, (select coalesce(max(r.revision), 0) + 1 from decisions.decision_revisions r where r.decision_id = old.id), nullif(current_setting('app.user_id', true), '')::integer, changed.fields, versions.before from (select ${versionSql('old')} as before, ${versionSql('new')} as after) versions cross join lateral (select jsonb_agg(b.key order by b.key) as fields from jsonb_each(versions.before) b where b.value is distinct from versions.after -> b.key) changed where changed.fields is not null; return null;`,
};

/** decisions.decisions: a decision with its confidence, consensus, impacts, anomalies and embedding. */
const DecisionsDecisionSchema = defineEntity({
  name: 'DecisionsDecision',
  tableName: 'decisions',
  properties: {
    id: p.integer().primary().autoincrement(),
    // Beyond the spec: the FK's own index. The spec's idx_decisions_project_status_decided leads with
    // project_id too, but is partial (live rows), so it cannot serve the cascade from a project. Decisions
    // of an archived project stay readable (see DecisionsTranscript.project).
    project: () =>
      p
        .manyToOne(DecisionsProject)
        .ref()
        .deleteRule('cascade')
        .index('idx_decisions_project')
        .filters({ [archive.filter]: false }),
    transcript: () =>
      p
        .manyToOne(DecisionsTranscript)
        .ref()
        .nullable()
        .deleteRule('set null')
        .index('idx_decisions_transcript'),
    title: p.string().length(300),
    statement: p.text(),
    rationale: p.text().nullable(),
    status: p.string().length(20).$type<DecisionStatus>().default('proposed'),
    confidence: p.decimal('number').precision(3).scale(2),
    decidedAt: createdAt(),
    impacts: p.json<Impact[]>().columnType('jsonb').default([]),
    consensus: p.json<Consensus>().columnType('jsonb').defaultRaw(`'{}'`),
    anomalies: p.json<Anomaly[]>().columnType('jsonb').default([]),
    /** Null until computed; title and statement embedded by the module's embedder. */
    embedding: p.type(VectorType).length(EMBEDDING_DIMENSIONS).nullable().lazy(),
    /** Beyond the spec: which embedder computed `embedding`, so `reembed` finds the stale ones. */
    embeddingModel: p.string().length(100).nullable(),
    ...timestamps(),
    deletedAt: softDelete.property(),
  },
  indexes: [
    {
      name: 'idx_decisions_project_status_decided',
      properties: ['project', 'status', 'decidedAt'],
      columns: [{ name: 'project_id' }, { name: 'status' }, { name: 'decided_at', sort: 'desc' }],
      where: 'deleted_at is null',
    },
    {
      // Beyond the spec: one live proposal from transcripts per title as compared (issue 25's duplicates).
      name: 'decisions_proposal_title_key_unique',
      expression:
        'create unique index "decisions_proposal_title_key_unique" on "decisions"."decisions" ("project_id", btrim(lower(regexp_replace("title", \'[^[:alnum:]]+\', \' \', \'g\')))) where "status" = \'proposed\' and "transcript_id" is not null and "deleted_at" is null',
    },
    {
      // Beyond the spec: the ingest's look-up of a live decision by title as compared.
      name: 'idx_decisions_project_title_key',
      expression:
        'create index "idx_decisions_project_title_key" on "decisions"."decisions" ("project_id", btrim(lower(regexp_replace("title", \'[^[:alnum:]]+\', \' \', \'g\')))) where "deleted_at" is null',
    },
    {
      name: 'idx_decisions_embedding_hnsw',
      expression:
        'create index "idx_decisions_embedding_hnsw" on "decisions"."decisions" using hnsw ("embedding" vector_cosine_ops)',
    },
    // Beyond the spec: full-text search over live decisions (`searchDecisions`).
    {
      name: 'idx_decisions_search',
      expression: `create index "idx_decisions_search" on "decisions"."decisions" using gin (${decisionSearchVectorSql()}) where (deleted_at is null)`,
    },
  ],
  checks: [
    checkIn('decisions_status_check', 'status', DECISION_STATUSES),
    { name: 'decisions_confidence_check', expression: 'confidence >= 0 and confidence <= 1' },
  ],
  triggers: [touchUpdatedAt, recordRevision],
  filters: softDelete.filters,
});
export class DecisionsDecision extends DecisionsDecisionSchema.class {}
DecisionsDecisionSchema.setClass(DecisionsDecision);
