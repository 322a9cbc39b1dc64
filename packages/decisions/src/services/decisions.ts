import {
  ConflictError,
  type EntityManager,
  executePrepared,
  keysetTimestampSql,
  NotFoundError,
  outputObjectSql,
  type PreparedStatement,
  preparedStatement,
  softDelete,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsDecision } from '../entities/decision.ts';
import type { DecisionsResources } from '../resources.ts';
import type {
  Anomaly,
  Consensus,
  CreateDecisionInput,
  Decision,
  DecisionDetail,
  DecisionIdInput,
  DecisionPage,
  DecisionStatus,
  EditDecisionInput,
  Impact,
  ListDecisionsInput,
  TransitionDecisionInput,
} from '../schemas.ts';
import { decisionText, type Embeddings, embedTexts } from '../similarity/embedder.ts';
import {
  checkProjectAccess,
  decisionNotFound,
  type ProjectAccess,
  projectAccessSql,
  requireDecision,
  requireProjectRole,
} from './access.ts';
import { decisionColumns, toDecision } from './outputs.ts';
import { markConflicts, relationshipsJsonSql, supersededTargets } from './relationships.ts';

export interface NewDecision {
  /** An id taken from the sequence beforehand, when links to the new row are made before it is inserted. */
  id?: number;
  projectId: number;
  transcriptId: number | null;
  title: string;
  statement: string;
  rationale: string | null;
  confidence: number;
  decidedAt?: Date;
  impacts: Impact[];
  consensus: Consensus;
  /** `proposed` unless given (an imported decision keeps its status and anomalies). */
  status?: DecisionStatus;
  anomalies?: Anomaly[];
}

/** Inserts decisions with their embeddings (`embedTexts`, one vector per row, in order). */
export async function insertDecisions(
  em: EntityManager,
  rows: readonly NewDecision[],
  { vectors, model }: Embeddings,
): Promise<Decision[]> {
  if (rows.length === 0) return [];
  const decisions = rows.map(({ projectId, transcriptId, decidedAt, ...fields }, index) =>
    em.create(DecisionsDecision, {
      ...fields,
      project: projectId,
      transcript: transcriptId,
      ...(decidedAt && { decidedAt }),
      embedding: vectors[index]!,
      embeddingModel: model,
    }),
  );
  // The insert's `returning` brings the database's defaults (timestamps), so nothing is read again.
  await em.flush();
  return decisions.map(toDecision);
}

/** Records a decision (member); `proposed` until someone accepts or rejects it. */
export async function createDecision(
  em: EntityManager,
  actor: DecisionsActor,
  input: CreateDecisionInput,
  { embedder }: DecisionsResources,
): Promise<Decision> {
  const { projectId, transcriptId, decidedAt, rationale, ...fields } = input;
  await requireProjectRole(em, actor, projectId, 'member');
  if (transcriptId) {
    const found: unknown[] = await em.execute(
      'select 1 from decisions.transcripts where id = ? and project_id = ?',
      [transcriptId, projectId],
    );
    if (found.length === 0) {
      throw new NotFoundError(`transcriptId: transcript ${transcriptId} is not in project ${projectId}`, {
        field: 'transcriptId',
      });
    }
  }
  const [decision] = await insertDecisions(
    em,
    [
      {
        ...fields,
        projectId,
        transcriptId: transcriptId ?? null,
        rationale: rationale ?? null,
        ...(decidedAt && { decidedAt: new Date(decidedAt) }),
      },
    ],
    await embedTexts(embedder, [decisionText(fields)]),
  );
  return decision!;
}

/** Changes a decision's fields (member); a new title or statement is embedded again. */
export async function editDecision(
  em: EntityManager,
  actor: DecisionsActor,
  input: EditDecisionInput,
  { embedder }: DecisionsResources,
): Promise<Decision> {
  const { decisionId, decidedAt, ...fields } = input;
  const { decision } = await requireDecision(em, actor, decisionId, 'member');
  em.assign(decision, { ...fields, ...(decidedAt && { decidedAt: new Date(decidedAt) }) });
  if (fields.title !== undefined || fields.statement !== undefined) {
    const { vectors, model } = await embedTexts(embedder, [decisionText(decision)]);
    decision.embedding = vectors[0]!;
    decision.embeddingModel = model;
  }
  await em.flush();
  return toDecision(await em.refreshOrFail(decision));
}

/** A decision of a page, with its keyset key (`decided_at` to the microsecond). */
type PagedDecision = { decision: Decision; key: string };
type DecisionRows = ProjectAccess & { decisions: PagedDecision[] };

/**
 * `listDecisions`' statements, one per combination of filters (each prepared on its own): `$1` the project,
 * `$2` the actor, `$3` the number of rows to read (a page and one), then the status when filtered by one,
 * then the cursor's timestamp and id when one is given.
 */
const listDecisionsStatements = new Map<string, PreparedStatement<DecisionRows>>();

function listDecisionsStatement(
  byStatus: boolean,
  includeDeleted: boolean,
  afterCursor: boolean,
): PreparedStatement<DecisionRows> {
  const name = `decisions.list${byStatus ? '.by_status' : ''}${includeDeleted ? '.with_deleted' : ''}${afterCursor ? '.after' : ''}`;
  let statement = listDecisionsStatements.get(name);
  if (!statement) {
    const cursorAt = byStatus ? 5 : 4;
    statement = preparedStatement<DecisionRows>(
      name,
      projectAccessSql(
        `coalesce((select json_agg(${outputObjectSql<PagedDecision>({ decision: 'page.decision', key: 'page.key' })}
                                   order by page.decided_at desc, page.id desc)
           from (select d.id, d.decided_at, ${outputObjectSql(decisionColumns('d'))} as decision,
                        ${keysetTimestampSql('d.decided_at')} as key
                 from decisions.decisions d
                 where d.project_id = m.project_id${includeDeleted ? '' : ' and d.deleted_at is null'}${byStatus ? ' and d.status = $4' : ''}${afterCursor ? ` and (d.decided_at, d.id) < ($${cursorAt}::timestamptz, $${cursorAt + 1}::int)` : ''}
                 order by d.decided_at desc, d.id desc limit $3) page), '[]') as decisions`,
      ),
    );
    listDecisionsStatements.set(name, statement);
  }
  return statement;
}

/**
 * A project's decisions, latest decided first (idx_decisions_project_status_decided), a page at a time; by
 * status when given. Soft-deleted ones only when an owner asks. A hot read, so one statement: the actor's
 * access and the page, rendered as JSON in the output schema's shape by the database.
 */
export async function listDecisions(
  em: EntityManager,
  actor: DecisionsActor,
  input: ListDecisionsInput,
): Promise<DecisionPage> {
  const { projectId, status, limit, includeDeleted, cursor } = input;
  const statement = listDecisionsStatement(status !== undefined, includeDeleted, cursor !== undefined);
  const rows = await executePrepared(em, statement, [
    projectId,
    actor.userId,
    limit + 1,
    ...(status ? [status] : []),
    ...(cursor ?? []),
  ]);
  const { decisions } = checkProjectAccess(rows[0], projectId, includeDeleted ? 'owner' : 'viewer');
  return toPage(
    decisions,
    limit,
    (row) => row.decision,
    (row) => [row.key, row.decision.id],
  );
}

/** `getDecision`'s statement: `$1` the actor, `$2` the decision. */
const decisionDetailStatement = preparedStatement<{ detail: DecisionDetail }>(
  'decisions.detail',
  `select ${outputObjectSql<DecisionDetail>({ ...decisionColumns('d'), relationships: relationshipsJsonSql('d.id') })} as detail
   from decisions.decisions d
   join decisions.project_members m on m.project_id = d.project_id and m.user_id = $1
   where d.id = $2 and d.deleted_at is null`,
);

/**
 * A decision with its relationships in both directions (viewer). A hot read, so one statement: any role may
 * read, archived project or not, so membership is the whole check; the database renders the answer.
 */
export async function getDecision(
  em: EntityManager,
  actor: DecisionsActor,
  input: DecisionIdInput,
): Promise<DecisionDetail> {
  const { decisionId } = input;
  const [row] = await executePrepared(em, decisionDetailStatement, [actor.userId, decisionId]);
  if (!row) throw decisionNotFound(decisionId);
  return row.detail;
}

/** Soft delete (member): the decision leaves every list and search until restored. */
export async function deleteDecision(
  em: EntityManager,
  actor: DecisionsActor,
  input: DecisionIdInput,
): Promise<Decision> {
  const { decisionId } = input;
  const { decision } = await requireDecision(em, actor, decisionId, 'member');
  decision.deletedAt = new Date();
  await em.flush();
  return toDecision(await em.refreshOrFail(decision, softDelete.included));
}

export async function restoreDecision(
  em: EntityManager,
  actor: DecisionsActor,
  input: DecisionIdInput,
): Promise<Decision> {
  const { decisionId } = input;
  const { decision } = await requireDecision(em, actor, decisionId, 'member', { includeDeleted: true });
  if (!decision.deletedAt) {
    throw new ConflictError(`decisionId: decision ${decisionId} is not deleted`, { field: 'decisionId' });
  }
  decision.deletedAt = null;
  await em.flush();
  return toDecision(await em.refreshOrFail(decision));
}

/** The moves a caller can make; `superseded` only follows from accepting a decision that supersedes. */
const TRANSITIONS: Record<DecisionStatus, readonly DecisionStatus[]> = {
  proposed: ['accepted', 'rejected'],
  accepted: ['deprecated'],
  rejected: [],
  deprecated: [],
  superseded: [],
};

/**
 * proposed → accepted | rejected; accepted → deprecated. Accepting a decision marks every accepted or
 * deprecated decision it supersedes as superseded, and records a `contradicts` anomaly on both sides of
 * each `conflicts_with` link to another accepted decision — in the same transaction, under a lock on the
 * decision's row.
 */
export async function transitionDecision(
  em: EntityManager,
  actor: DecisionsActor,
  input: TransitionDecisionInput,
): Promise<Decision> {
  const { decisionId, status } = input;
  const { decision } = await requireDecision(em, actor, decisionId, 'member', { lock: true });
  const current: DecisionStatus = decision.status;
  if (!TRANSITIONS[current].includes(status)) {
    const allowed = TRANSITIONS[current].join(' or ') || 'nothing';
    throw new ConflictError(
      `status: decision ${decisionId} is ${current} and cannot become ${status} (from ${current}: ${allowed})`,
      { field: 'status' },
    );
  }
  await em.execute('update decisions.decisions set status = ? where id = ?', [status, decisionId]);
  if (status === 'accepted') {
    await em.execute(
      `update decisions.decisions set status = 'superseded' where id in (${supersededTargets}) and status in ('accepted', 'deprecated') and deleted_at is null`,
      [decisionId],
    );
    await markConflicts(em, decisionId);
  }
  return toDecision(await em.refreshOrFail(decision));
}
