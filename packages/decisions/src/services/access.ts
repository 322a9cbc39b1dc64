import { ConflictError, type EntityManager, ForbiddenError, NotFoundError } from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsDecision } from '../entities/decision.ts';
import { softDeleted } from '../entities/filters.ts';
import { DecisionsProject } from '../entities/project.ts';
import type { ProjectRole } from '../schemas.ts';

/**
 * The rules every decisions service shares. Only members see a project and what is in it (a non-member is
 * told it does not exist, so ids cannot be probed); viewers read, members write, owners administer. An
 * archived project can be read but not written. Directors manage users, not other people's projects.
 */

const RANK: Record<ProjectRole, number> = { viewer: 0, member: 1, owner: 2 };
const ACTION: Record<ProjectRole, string> = { viewer: 'read', member: 'write', owner: 'administer' };

export function requireDirector(actor: DecisionsActor, action: string): void {
  if (actor.role !== 'director') {
    throw new ForbiddenError(`only a director may ${action} (you are ${actor.role})`, { field: 'userId' });
  }
}

export function projectNotFound(projectId: number): NotFoundError {
  return new NotFoundError(`projectId: project ${projectId} does not exist or you are not a member`, {
    field: 'projectId',
  });
}

export function decisionNotFound(decisionId: number, field = 'decisionId'): NotFoundError {
  return new NotFoundError(`${field}: decision ${decisionId} does not exist`, { field });
}

export interface ProjectAccess {
  project: DecisionsProject;
  role: ProjectRole;
}

/**
 * The project (archived ones included) with the actor's role in it, if the role is at least `minimum`.
 * Writing (`member` and above) into an archived project is refused.
 */
export async function requireProjectRole(
  em: EntityManager,
  actor: DecisionsActor,
  projectId: number,
  minimum: ProjectRole,
  field = 'projectId',
): Promise<ProjectAccess> {
  const rows: { role: ProjectRole }[] = await em.execute(
    'select role from decisions.project_members where project_id = ? and user_id = ?',
    [projectId, actor.userId],
  );
  const role = rows[0]?.role;
  const project =
    role && (await em.findOne(DecisionsProject, projectId, { filters: { notArchived: false } }));
  if (!role || !project) throw projectNotFound(projectId);
  if (RANK[role] < RANK[minimum]) {
    throw new ForbiddenError(
      `${field}: ${ACTION[minimum]} access to project ${projectId} needs the ${minimum} role (you are ${role})`,
      { field },
    );
  }
  if (minimum !== 'viewer' && project.archivedAt) {
    throw new ConflictError(`${field}: project ${projectId} is archived; unarchive it first`, { field });
  }
  return { project, role };
}

/**
 * A decision (soft-deleted ones only with `includeDeleted`) and the actor's access to its project, with
 * the same rules as `requireProjectRole`; a decision in a project the actor is not a member of does not
 * exist for them.
 */
export async function requireDecision(
  em: EntityManager,
  actor: DecisionsActor,
  decisionId: number,
  minimum: ProjectRole,
  options: { field?: string; includeDeleted?: boolean } = {},
): Promise<{ decision: DecisionsDecision } & ProjectAccess> {
  const field = options.field ?? 'decisionId';
  const decision = await em.findOne(DecisionsDecision, decisionId, {
    ...(options.includeDeleted && softDeleted),
  });
  if (!decision) throw decisionNotFound(decisionId, field);
  const access = await requireProjectRole(em, actor, decision.project.id, minimum, field).catch(
    (error: unknown) => {
      throw error instanceof NotFoundError ? decisionNotFound(decisionId, field) : error;
    },
  );
  return { decision, ...access };
}
