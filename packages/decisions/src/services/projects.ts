import {
  ConflictError,
  type EntityManager,
  executePrepared,
  isoTimestampSql,
  NotFoundError,
  outputColumnsSql,
  outputObjectSql,
  preparedStatement,
} from '@huddle/db';
import { rowsToPage, toPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsProject } from '../entities/project.ts';
import { DecisionsProjectMember } from '../entities/project-member.ts';
import type {
  AddMemberInput,
  ChangeMemberRoleInput,
  CreateProjectInput,
  ListMembersInput,
  ListProjectsInput,
  Member,
  MemberPage,
  Project,
  ProjectIdInput,
  ProjectPage,
  ProjectRole,
  RemovedMember,
  RemoveMemberInput,
} from '../schemas.ts';
import { checkProjectAccess, type ProjectAccess, projectAccessSql, requireProjectRole } from './access.ts';
import { projectColumns, toProject } from './outputs.ts';

/**
 * Creates a project; its creator becomes its owner. Another live project of the same creator with that name
 * (any case) conflicts; other users' project names do not (and so are never revealed).
 */
export async function createProject(
  em: EntityManager,
  actor: DecisionsActor,
  input: CreateProjectInput,
): Promise<Project> {
  const { name, description } = input;
  const project = em.create(DecisionsProject, {
    name,
    description: description ?? null,
    createdBy: actor.userId,
  });
  em.create(DecisionsProjectMember, { project, user: actor.userId, role: 'owner' });
  await em.flush();
  return toProject(project, 'owner');
}

/** The actor's row `m` of decisions.project_members and its project `p` as a `Project`. */
const PROJECT_SQL = `${outputObjectSql(projectColumns('p', 'm.role'))} as project`;

/**
 * `listMyProjects`' statement: `$1` the actor, `$2` whether archived projects count, `$3` the page size and
 * one, `$4`–`$5` the cursor's name and id (null: first page).
 */
const myProjectsStatement = preparedStatement<{ project: Project }>(
  'decisions.my_projects_page',
  `select ${PROJECT_SQL}
   from decisions.project_members m join decisions.projects p on p.id = m.project_id
   where m.user_id = $1 and ($2::boolean or p.archived_at is null)
     and ($4::text is null or (p.name, p.id) > ($4::text, $5::int))
   order by p.name, p.id limit $3`,
);

/**
 * The projects the actor is a member of, by name, a page at a time; archived ones only when asked. A hot
 * read, so one statement rendering the answer.
 */
export async function listMyProjects(
  em: EntityManager,
  actor: DecisionsActor,
  input: ListProjectsInput,
): Promise<ProjectPage> {
  const { includeArchived, limit, cursor } = input;
  const rows = await executePrepared(em, myProjectsStatement, [
    actor.userId,
    includeArchived,
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
  return toPage(
    rows,
    limit,
    (row) => row.project,
    ({ project }) => [project.name, project.id],
  );
}

/** A project, archived or not (access is checked by the caller). */
function findProject(em: EntityManager, projectId: number): Promise<DecisionsProject> {
  return em.findOneOrFail(DecisionsProject, projectId, { filters: { notArchived: false } });
}

/** `getProject`'s statement: `$1` the project, `$2` the actor. */
const projectStatement = preparedStatement<ProjectAccess & { project: Project }>(
  'decisions.project',
  projectAccessSql(PROJECT_SQL),
);

/** A project, archived or not, for its members: its access and the answer in one statement. */
export async function getProject(
  em: EntityManager,
  actor: DecisionsActor,
  input: ProjectIdInput,
): Promise<Project> {
  const { projectId } = input;
  const rows = await executePrepared(em, projectStatement, [projectId, actor.userId]);
  return checkProjectAccess(rows[0], projectId, 'viewer').project;
}

async function setArchived(
  em: EntityManager,
  actor: DecisionsActor,
  input: ProjectIdInput,
  archived: boolean,
): Promise<Project> {
  const { projectId } = input;
  // Owners may unarchive: the archived check of requireProjectRole applies to writes inside the project.
  const { role } = await requireProjectRole(em, actor, projectId, 'viewer');
  if (role !== 'owner') await requireProjectRole(em, actor, projectId, 'owner');
  const project = await findProject(em, projectId);
  if (Boolean(project.archivedAt) === archived) {
    throw new ConflictError(`projectId: project ${projectId} is ${archived ? 'already' : 'not'} archived`, {
      field: 'projectId',
    });
  }
  project.archivedAt = archived ? new Date() : null;
  await em.flush();
  return toProject(await em.refreshOrFail(project, { filters: { notArchived: false } }), role);
}

/** Archives a project (owner): it leaves default lists and its name can be used again. */
export function archiveProject(
  em: EntityManager,
  actor: DecisionsActor,
  input: ProjectIdInput,
): Promise<Project> {
  return setArchived(em, actor, input, true);
}

/** Unarchives a project (owner); conflicts if a live project of its creator took its name meanwhile. */
export function unarchiveProject(
  em: EntityManager,
  actor: DecisionsActor,
  input: ProjectIdInput,
): Promise<Project> {
  return setArchived(em, actor, input, false);
}

/** A `Member` of the decisions.project_members row `m` and its user `u` (active users only). */
const MEMBER_SELECT = `select ${outputColumnsSql<Member>({
  projectId: 'm.project_id',
  userId: 'm.user_id',
  name: 'u.name',
  email: 'u.email',
  role: 'm.role',
  joinedAt: isoTimestampSql('m.joined_at'),
})} from decisions.project_members m join decisions.users u on u.id = m.user_id and u.deleted_at is null`;

/**
 * `listMembers`' statement: `$1` the project, `$2` the page size and one, `$3`–`$4` the cursor's name and
 * user id (null: first page).
 */
const membersStatement = preparedStatement<Member>(
  'decisions.members_page',
  `${MEMBER_SELECT} where m.project_id = $1 and ($3::text is null or (u.name, u.id) > ($3::text, $4::int))
   order by u.name, u.id limit $2`,
);

/** The project's members (active users), by name, a page at a time. */
export async function listMembers(
  em: EntityManager,
  actor: DecisionsActor,
  input: ListMembersInput,
): Promise<MemberPage> {
  const { projectId, limit, cursor } = input;
  await requireProjectRole(em, actor, projectId, 'viewer');
  const rows = await executePrepared(em, membersStatement, [
    projectId,
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
  return rowsToPage(rows, limit, (member) => [member.name, member.userId]);
}

/** `readMember`'s statement: `$1` the project, `$2` the user. */
const memberStatement = preparedStatement<Member>(
  'decisions.member',
  `${MEMBER_SELECT} where m.project_id = $1 and m.user_id = $2`,
);

async function readMember(em: EntityManager, projectId: number, userId: number): Promise<Member> {
  const [member] = await executePrepared(em, memberStatement, [projectId, userId]);
  return member!;
}

/**
 * Locks the project's row for a membership change and refuses one that would leave it without a live owner
 * (a soft-deleted user's ownership does not count), so two owners demoting or removing each other at once
 * cannot both succeed. A soft-deleted user is no member here, as in `listMembers`: not found.
 */
async function requireOwnerRemains(
  em: EntityManager,
  projectId: number,
  userId: number,
  newRole: ProjectRole | null,
): Promise<void> {
  await em.execute('select id from decisions.projects where id = ? for update', [projectId]);
  const rows: { role: ProjectRole; other_owners: string }[] = await em.execute(
    `select m.role, (select count(*) from decisions.project_members o
                       join decisions.users ou on ou.id = o.user_id and ou.deleted_at is null
                     where o.project_id = m.project_id and o.role = 'owner' and o.user_id <> m.user_id) as other_owners
     from decisions.project_members m join decisions.users u on u.id = m.user_id and u.deleted_at is null
     where m.project_id = ? and m.user_id = ?`,
    [projectId, userId],
  );
  const member = rows[0];
  if (!member) {
    throw new NotFoundError(`userId: user ${userId} is not a member of project ${projectId}`, {
      field: 'userId',
    });
  }
  if (member.role === 'owner' && newRole !== 'owner' && Number(member.other_owners) === 0) {
    throw new ConflictError(`userId: user ${userId} is the last live owner of project ${projectId}`, {
      field: 'userId',
    });
  }
}

/** Adds an active user to the project (owner); adding a member twice conflicts. */
export async function addMember(
  em: EntityManager,
  actor: DecisionsActor,
  input: AddMemberInput,
): Promise<Member> {
  const { projectId, userId, role } = input;
  await requireProjectRole(em, actor, projectId, 'owner');
  const users: unknown[] = await em.execute(
    'select 1 from decisions.users where id = ? and deleted_at is null',
    [userId],
  );
  if (users.length === 0)
    throw new NotFoundError(`userId: user ${userId} does not exist`, { field: 'userId' });
  const inserted: unknown[] = await em.execute(
    `insert into decisions.project_members (project_id, user_id, role) values (?, ?, ?)
     on conflict (project_id, user_id) do nothing returning user_id`,
    [projectId, userId, role],
  );
  if (inserted.length === 0) {
    throw new ConflictError(`userId: user ${userId} is already a member of project ${projectId}`, {
      field: 'userId',
    });
  }
  return readMember(em, projectId, userId);
}

/** Changes a member's role (owner); the last owner cannot be demoted. */
export async function changeMemberRole(
  em: EntityManager,
  actor: DecisionsActor,
  input: ChangeMemberRoleInput,
): Promise<Member> {
  const { projectId, userId, role } = input;
  await requireProjectRole(em, actor, projectId, 'owner');
  await requireOwnerRemains(em, projectId, userId, role);
  await em.execute('update decisions.project_members set role = ? where project_id = ? and user_id = ?', [
    role,
    projectId,
    userId,
  ]);
  return readMember(em, projectId, userId);
}

/** Removes a member (owner), or the actor leaves (anyone); the last owner cannot leave. */
export async function removeMember(
  em: EntityManager,
  actor: DecisionsActor,
  input: RemoveMemberInput,
): Promise<RemovedMember> {
  const { projectId, userId } = input;
  await requireProjectRole(em, actor, projectId, userId === actor.userId ? 'viewer' : 'owner');
  await requireOwnerRemains(em, projectId, userId, null);
  await em.execute('delete from decisions.project_members where project_id = ? and user_id = ?', [
    projectId,
    userId,
  ]);
  return { projectId, userId };
}
