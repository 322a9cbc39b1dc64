import {
  ConflictError,
  type EntityManager,
  executePrepared,
  ForbiddenError,
  LockMode,
  NotFoundError,
  preparedStatement,
  softDelete,
} from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsDecision } from '../entities/decision.ts';
import { DecisionsTranscript } from '../entities/transcript.ts';
import type { ProjectRole } from '../schemas.ts';

/**
 * The rules every decisions service shares. Only members see a project and what is in it (a non-member is
 * told it does not exist, so ids cannot be probed); viewers read, members write, owners administer. An
 * archived project can be read but not written. Directors manage users, not other people's projects.
 */

const RANK: Record<ProjectRole, number> = { viewer: 0, member: 1, owner: 2 };
const ACTION: Record<ProjectRole, string> = { viewer: 'read', member: 'write', owner: 'administer' };

/** Refuses a caller who is not a director; `field` is the input field the refused request is about. */
export function requireDirector(actor: DecisionsActor, action: string, field: string): void {
  if (actor.role !== 'director') {
    throw new ForbiddenError(`${field}: only a director may ${action} (you are ${actor.role})`, { field });
  }
}

function projectNotFound(projectId: number): NotFoundError {
  return new NotFoundError(`projectId: project ${projectId} does not exist or you are not a member`, {
    field: 'projectId',
  });
}

export function decisionNotFound(decisionId: number, field = 'decisionId'): NotFoundError {
  return new NotFoundError(`${field}: decision ${decisionId} does not exist`, { field });
}

export function transcriptNotFound(transcriptId: number): NotFoundError {
  return new NotFoundError(`transcriptId: transcript ${transcriptId} does not exist`, {
    field: 'transcriptId',
  });
}

export interface ProjectAccess {
  role: ProjectRole;
  archived: boolean;
}

/**
 * The statement that reads the actor's `ProjectAccess` (no row: not a member) for project `$1` and user
 * `$2`, with `answer`, more columns over the actor's decisions.project_members row `m` and its
 * decisions.projects row `p` (their parameters from `$3`): a hot read checks access and reads its answer in
 * one statement.
 */
export function projectAccessSql(answer = ''): string {
  return `select m.role, p.archived_at is not null as archived${answer && `, ${answer}`}
    from decisions.project_members m join decisions.projects p on p.id = m.project_id
    where m.project_id = $1 and m.user_id = $2`;
}

/** `requireProjectRole`'s statement: `$1` the project, `$2` the actor. */
const projectAccessStatement = preparedStatement<ProjectAccess>(
  'decisions.project_access',
  projectAccessSql(),
);

/**
 * The actor's access to a project as read by a statement (none: not a member), if it is at least `minimum`.
 * Writing (`member` and above) into an archived project is refused.
 */
export function checkProjectAccess<Row extends ProjectAccess>(
  access: Row | undefined,
  projectId: number,
  minimum: ProjectRole,
  field = 'projectId',
): Row {
  if (!access) throw projectNotFound(projectId);
  if (RANK[access.role] < RANK[minimum]) {
    throw new ForbiddenError(
      `${field}: ${ACTION[minimum]} access to project ${projectId} needs the ${minimum} role (you are ${access.role})`,
      { field },
    );
  }
  if (minimum !== 'viewer' && access.archived) {
    throw new ConflictError(`${field}: project ${projectId} is archived; unarchive it first`, { field });
  }
  return access;
}

/** The actor's role in a project (archived ones included), if it is at least `minimum`, in one statement. */
export async function requireProjectRole(
  em: EntityManager,
  actor: DecisionsActor,
  projectId: number,
  minimum: ProjectRole,
  field = 'projectId',
): Promise<ProjectAccess> {
  const [access] = await executePrepared(em, projectAccessStatement, [projectId, actor.userId]);
  return checkProjectAccess(access, projectId, minimum, field);
}

/**
 * A decision (soft-deleted ones only with `includeDeleted`; its row locked `for update` with `lock`) and
 * the actor's access to its project, with the same rules as `requireProjectRole`; a decision in a project the actor is not a member of does not
 * exist for them.
 */
export async function requireDecision(
  em: EntityManager,
  actor: DecisionsActor,
  decisionId: number,
  minimum: ProjectRole,
  options: { field?: string; includeDeleted?: boolean; lock?: boolean } = {},
): Promise<{ decision: DecisionsDecision } & ProjectAccess> {
  const field = options.field ?? 'decisionId';
  const decision = await em.findOne(DecisionsDecision, decisionId, {
    ...(options.includeDeleted && softDelete.included),
    ...(options.lock && { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true }),
  });
  if (!decision) throw decisionNotFound(decisionId, field);
  const access = await requireProjectRole(em, actor, decision.project.id, minimum, field).catch(
    (error: unknown) => {
      throw error instanceof NotFoundError ? decisionNotFound(decisionId, field) : error;
    },
  );
  return { decision, ...access };
}

/** A transcript the actor may see with at least `minimum` role in its project; otherwise it does not exist. */
export async function requireTranscript(
  em: EntityManager,
  actor: DecisionsActor,
  transcriptId: number,
  minimum: 'viewer' | 'member',
): Promise<DecisionsTranscript> {
  const transcript = await em.findOne(DecisionsTranscript, transcriptId);
  if (!transcript) throw transcriptNotFound(transcriptId);
  await requireProjectRole(em, actor, transcript.project.id, minimum, 'transcriptId').catch(
    (error: unknown) => {
      throw error instanceof NotFoundError ? transcriptNotFound(transcriptId) : error;
    },
  );
  return transcript;
}
