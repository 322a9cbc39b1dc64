import {
  archive,
  checkIn,
  createdAt,
  defineEntity,
  p,
  softDelete,
  timestamps,
  touchUpdatedAt,
  VectorType,
} from '@huddle/db';

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
  ],
  checks: [
    checkIn('decisions_status_check', 'status', DECISION_STATUSES),
    { name: 'decisions_confidence_check', expression: 'confidence >= 0 and confidence <= 1' },
  ],
  triggers: [touchUpdatedAt],
  filters: softDelete.filters,
});
export class DecisionsDecision extends DecisionsDecisionSchema.class {}
DecisionsDecisionSchema.setClass(DecisionsDecision);
