import { isoTimestampSql } from '@huddle/db';
import type { DecisionsDecision } from '../entities/decision.ts';
import type { DecisionsProject } from '../entities/project.ts';
import type { DecisionsTranscript } from '../entities/transcript.ts';
import type { DecisionsUser } from '../entities/user.ts';
import type { Consensus, Decision, Project, ProjectRole, Transcript, User } from '../schemas.ts';

/**
 * Entities → the plain, serialisable shapes of schemas.ts that services return; and the same shapes rendered
 * by the database (`…JsonFields`, the arguments of a `json_build_object`), for hot reads that hydrate nothing.
 * Both drivers hand a `json` column back parsed (node-postgres, and PGlite with its default parsers, which
 * embedded.test.ts checks), so such a read returns it as it comes.
 */

export function toUser(user: DecisionsUser): User {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    deletedAt: user.deletedAt?.toISOString() ?? null,
  };
}

export function toProject(project: DecisionsProject, myRole: ProjectRole): Project {
  return {
    id: project.id,
    name: project.name,
    description: project.description ?? null,
    createdBy: project.createdBy.id,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
    archivedAt: project.archivedAt?.toISOString() ?? null,
    myRole,
  };
}

/** `projectSchema`'s fields but `myRole`, of the decisions.projects row aliased `alias`. */
export function projectJsonFields(alias: string): string {
  return `'id', ${alias}.id, 'name', ${alias}.name, 'description', ${alias}.description,
    'createdBy', ${alias}.created_by, 'createdAt', ${isoTimestampSql(`${alias}.created_at`)},
    'updatedAt', ${isoTimestampSql(`${alias}.updated_at`)}, 'archivedAt', ${isoTimestampSql(`${alias}.archived_at`)}`;
}

export function toTranscript(transcript: DecisionsTranscript): Transcript {
  return {
    id: transcript.id,
    projectId: transcript.project.id,
    webhookId: transcript.webhookId ?? null,
    title: transcript.title,
    source: transcript.source,
    meetingAt: transcript.meetingAt.toISOString(),
    participants: transcript.participants,
    content: transcript.content,
    createdAt: transcript.createdAt.toISOString(),
  };
}

/** `consensus` defaults to `{}` in the database (the spec's default); callers always get all three lists. */
function fullConsensus(consensus: Partial<Consensus>): Consensus {
  return { for: consensus.for ?? [], against: consensus.against ?? [], abstain: consensus.abstain ?? [] };
}

export function toDecision(decision: DecisionsDecision): Decision {
  return {
    id: decision.id,
    projectId: decision.project.id,
    transcriptId: decision.transcript?.id ?? null,
    title: decision.title,
    statement: decision.statement,
    rationale: decision.rationale ?? null,
    status: decision.status,
    confidence: Number(decision.confidence),
    decidedAt: decision.decidedAt.toISOString(),
    impacts: decision.impacts,
    consensus: fullConsensus(decision.consensus),
    anomalies: decision.anomalies,
    createdAt: decision.createdAt.toISOString(),
    updatedAt: decision.updatedAt.toISOString(),
    deletedAt: decision.deletedAt?.toISOString() ?? null,
  };
}

/**
 * `decisionSchema`'s fields of the decisions.decisions row aliased `alias` (as `toDecision` maps them:
 * numeric confidence as a number, every consensus list present).
 */
export function decisionJsonFields(alias: string): string {
  const consensusList = (list: keyof Consensus) =>
    `'${list}', coalesce(${alias}.consensus -> '${list}', '[]'::jsonb)`;
  return `'id', ${alias}.id, 'projectId', ${alias}.project_id, 'transcriptId', ${alias}.transcript_id,
    'title', ${alias}.title, 'statement', ${alias}.statement, 'rationale', ${alias}.rationale,
    'status', ${alias}.status, 'confidence', ${alias}.confidence,
    'decidedAt', ${isoTimestampSql(`${alias}.decided_at`)}, 'impacts', ${alias}.impacts,
    'consensus', json_build_object(${consensusList('for')}, ${consensusList('against')}, ${consensusList('abstain')}),
    'anomalies', ${alias}.anomalies, 'createdAt', ${isoTimestampSql(`${alias}.created_at`)},
    'updatedAt', ${isoTimestampSql(`${alias}.updated_at`)}, 'deletedAt', ${isoTimestampSql(`${alias}.deleted_at`)}`;
}

/** A `timestamptz` from a native query (`em.execute` returns PostgreSQL's text form) as ISO 8601 UTC. */
export function isoFromDatabase(value: string | Date): string {
  return new Date(value).toISOString();
}
