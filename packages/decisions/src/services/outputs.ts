import { isoTimestampSql, type OutputColumns, outputObjectSql } from '@huddle/db';
import type { DecisionsDecision } from '../entities/decision.ts';
import type { DecisionsProject } from '../entities/project.ts';
import type { DecisionsTranscript } from '../entities/transcript.ts';
import type { DecisionsUser } from '../entities/user.ts';
import type {
  Consensus,
  Decision,
  DecisionSummary,
  Project,
  ProjectRole,
  Transcript,
  TranscriptSummary,
  User,
} from '../schemas.ts';

/**
 * Entities → the plain, serialisable shapes of schemas.ts that writes return; and, for reads, the same shapes
 * rendered by the database from column maps checked against the output type (`…Columns`, for
 * `outputColumnsSql` / `outputObjectSql`), so a read's rows are its answer. Both drivers hand a `json` column
 * back parsed (node-postgres, and PGlite with its default parsers, which embedded.test.ts checks).
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

/** A `User` of the decisions.users row aliased `u`. */
export function userColumns(u: string): OutputColumns<User> {
  return {
    id: `${u}.id`,
    email: `${u}.email`,
    name: `${u}.name`,
    role: `${u}.role`,
    createdAt: isoTimestampSql(`${u}.created_at`),
    updatedAt: isoTimestampSql(`${u}.updated_at`),
    deletedAt: isoTimestampSql(`${u}.deleted_at`),
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

/** A `Project` of the decisions.projects row aliased `p`, with `myRole` the caller's role (an expression). */
export function projectColumns(p: string, myRole: string): OutputColumns<Project> {
  return {
    id: `${p}.id`,
    name: `${p}.name`,
    description: `${p}.description`,
    createdBy: `${p}.created_by`,
    createdAt: isoTimestampSql(`${p}.created_at`),
    updatedAt: isoTimestampSql(`${p}.updated_at`),
    archivedAt: isoTimestampSql(`${p}.archived_at`),
    myRole,
  };
}

/** A `Transcript` of the decisions.transcripts row aliased `t`. */
export function transcriptColumns(t: string): OutputColumns<Transcript> {
  return {
    id: `${t}.id`,
    projectId: `${t}.project_id`,
    webhookId: `${t}.webhook_id`,
    title: `${t}.title`,
    source: `${t}.source`,
    meetingAt: isoTimestampSql(`${t}.meeting_at`),
    participants: `${t}.participants`,
    content: `${t}.content`,
    createdAt: isoTimestampSql(`${t}.created_at`),
  };
}

/** A `TranscriptSummary` of the decisions.transcripts row aliased `t`: never its text. */
export function transcriptSummaryColumns(t: string): OutputColumns<TranscriptSummary> {
  const { content: _, participants: __, ...summary } = transcriptColumns(t);
  return { ...summary, participantCount: `jsonb_array_length(${t}.participants)` };
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
 * A `Decision` of the decisions.decisions row aliased `d` (as `toDecision` maps it: the numeric confidence as
 * a number, every consensus list present).
 */
export function decisionColumns(d: string): OutputColumns<Decision> {
  const consensusList = (list: keyof Consensus) => `coalesce(${d}.consensus -> '${list}', '[]'::jsonb)`;
  return {
    id: `${d}.id`,
    projectId: `${d}.project_id`,
    transcriptId: `${d}.transcript_id`,
    title: `${d}.title`,
    statement: `${d}.statement`,
    rationale: `${d}.rationale`,
    status: `${d}.status`,
    confidence: `${d}.confidence::float8`,
    decidedAt: isoTimestampSql(`${d}.decided_at`),
    impacts: `${d}.impacts`,
    consensus: outputObjectSql<Consensus>({
      for: consensusList('for'),
      against: consensusList('against'),
      abstain: consensusList('abstain'),
    }),
    anomalies: `${d}.anomalies`,
    createdAt: isoTimestampSql(`${d}.created_at`),
    updatedAt: isoTimestampSql(`${d}.updated_at`),
    deletedAt: isoTimestampSql(`${d}.deleted_at`),
  };
}

/** A `DecisionSummary` of the decisions.decisions row aliased `d`. */
export function decisionSummaryColumns(d: string): OutputColumns<DecisionSummary> {
  return {
    id: `${d}.id`,
    projectId: `${d}.project_id`,
    title: `${d}.title`,
    status: `${d}.status`,
    decidedAt: isoTimestampSql(`${d}.decided_at`),
  };
}
