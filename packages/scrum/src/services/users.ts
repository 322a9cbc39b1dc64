import {
  ConflictError,
  type EntityManager,
  executePrepared,
  ForbiddenError,
  flushAndReload,
  NotFoundError,
  preparedStatement,
  revokeSessions,
  UnauthorizedError,
} from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { ScrumActor } from '../actor.ts';
import { ScrumUser } from '../entities/user.ts';
import type {
  ChangeUserRoleInput,
  CurrentUser,
  DirectoryInput,
  Invitation,
  InvitationPage,
  InviteUserInput,
  ListInvitationsInput,
  RevokeInvitationInput,
  TeamMember,
  TeamMemberPage,
  UserIdInput,
} from '../schemas.ts';
import { notFound, requireAdmin } from './access.ts';
import {
  currentUserColumnsSql,
  invitationColumnsSql,
  teamMemberColumnsSql,
  toTeamMember,
} from './outputs.ts';

/**
 * `listDirectory`'s statement: `$1` the role (null: any), `$2` whether deactivated users count, `$3` the page
 * size and one, `$4`–`$5` the cursor's username and id (null: first page).
 */
const directoryStatement = preparedStatement<TeamMember>(
  'scrum.directory_page',
  `select ${teamMemberColumnsSql('u')} from scrum.users u
   where ($1::text is null or u.role = $1::text) and ($2::boolean or u.is_active)
     and ($4::text is null or (u.username, u.id) > ($4::text, $5::int))
   order by u.username, u.id limit $3`,
);

/**
 * The team directory: active users by name (id, username, avatar, role — never an email), a page at a time.
 * Admins may include deactivated users.
 */
export async function listDirectory(
  em: EntityManager,
  actor: ScrumActor,
  input: DirectoryInput,
): Promise<TeamMemberPage> {
  const { role, includeInactive, limit, cursor } = input;
  if (includeInactive) requireAdmin(actor, 'list deactivated users', 'includeInactive');
  const rows = await executePrepared(em, directoryStatement, [
    role ?? null,
    includeInactive,
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
  return rowsToPage(rows, limit, (member) => [member.username, member.id]);
}

/** `getCurrentUser`'s statement: `$1` the actor. */
const currentUserStatement = preparedStatement<CurrentUser>(
  'scrum.current_user',
  `select ${currentUserColumnsSql('u')} from scrum.users u where u.id = $1`,
);

/** The acting user, with their own email. */
export async function getCurrentUser(em: EntityManager, actor: ScrumActor): Promise<CurrentUser> {
  const [user] = await executePrepared(em, currentUserStatement, [actor.userId]);
  if (!user) throw new UnauthorizedError(`actor: scrum user ${actor.userId} does not exist`);
  return user;
}

/** The user an admin manages; admins never change themselves, so the team always keeps its admin. */
async function managedUser(em: EntityManager, actor: ScrumActor, userId: number, action: string) {
  requireAdmin(actor, action, 'userId');
  if (userId === actor.userId) {
    throw new ForbiddenError(`userId: admins may not ${action} themselves; ask another admin`, {
      field: 'userId',
    });
  }
  const user = await em.findOne(ScrumUser, userId);
  if (!user) throw notFound('userId', 'user', userId);
  return user;
}

/** Gives a user another role (admins); it applies from the user's next request. */
export async function changeUserRole(
  em: EntityManager,
  actor: ScrumActor,
  input: ChangeUserRoleInput,
): Promise<TeamMember> {
  const { userId, role } = input;
  const user = await managedUser(em, actor, userId, 'change the role of');
  user.role = role;
  return toTeamMember(await flushAndReload(em, user));
}

async function setActive(em: EntityManager, actor: ScrumActor, input: UserIdInput, isActive: boolean) {
  const { userId } = input;
  const user = await managedUser(em, actor, userId, isActive ? 'reactivate' : 'deactivate');
  if (user.isActive === isActive) {
    throw new ConflictError(`userId: user ${userId} is already ${isActive ? 'active' : 'deactivated'}`, {
      field: 'userId',
    });
  }
  user.isActive = isActive;
  // Reactivation revives none of the tokens a deactivation ended.
  if (!isActive) await revokeSessions(em, { module: 'scrum', subject: String(userId) }, 'user_deactivated');
  return toTeamMember(await flushAndReload(em, user));
}

/** Deactivates a user (admins): they can no longer sign in or act, and leave the directory. */
export function deactivateUser(
  em: EntityManager,
  actor: ScrumActor,
  input: UserIdInput,
): Promise<TeamMember> {
  return setActive(em, actor, input, false);
}

export function reactivateUser(
  em: EntityManager,
  actor: ScrumActor,
  input: UserIdInput,
): Promise<TeamMember> {
  return setActive(em, actor, input, true);
}

/** Writes an invitation; a login that already is a member or already invited is a conflict. */
async function insertInvitation(
  em: EntityManager,
  invitedById: number | null,
  input: InviteUserInput,
): Promise<Invitation> {
  const { githubLogin, role } = input;
  const [member] = await em.execute<{ id: number }[]>(
    'select id from scrum.users where lower(username) = ?',
    [githubLogin],
  );
  if (member) {
    throw new ConflictError(`githubLogin: ${githubLogin} is already a member (user ${member.id})`, {
      field: 'githubLogin',
    });
  }
  const [invitation] = await em.execute<Invitation[]>(
    `insert into scrum.invitations as i (github_login, role, invited_by_id) values (?, ?, ?)
     on conflict (github_login) do nothing returning ${invitationColumnsSql('i')}`,
    [githubLogin, role, invitedById],
  );
  if (!invitation) {
    throw new ConflictError(`githubLogin: ${githubLogin} is already invited`, { field: 'githubLogin' });
  }
  return invitation;
}

/**
 * Invites a GitHub login to join with `role` (admins): its first sign-in creates the user. Sign-up is
 * closed, so this is how the team grows.
 */
export function inviteUser(
  em: EntityManager,
  actor: ScrumActor,
  input: InviteUserInput,
): Promise<Invitation> {
  requireAdmin(actor, 'invite users', 'githubLogin');
  return insertInvitation(em, actor.userId, input);
}

/**
 * The operator's invitation (`huddle scrum invite`, run as the owner, acting for no user): how a new team
 * gets its first admin.
 */
export function inviteUserAsOperator(em: EntityManager, input: InviteUserInput): Promise<Invitation> {
  return insertInvitation(em, null, input);
}

/**
 * `selectInvitations`' statement: `$1` whether only pending ones count, `$2` the page size and one, `$3` the
 * cursor's id (null: first page).
 */
const invitationsStatement = preparedStatement<Invitation>(
  'scrum.invitations_page',
  `select ${invitationColumnsSql('i')} from scrum.invitations i
   where (not $1::boolean or i.accepted_at is null) and ($3::int is null or i.id > $3::int)
   order by i.id limit $2`,
);

/** A page of invitations, oldest first. */
async function selectInvitations(em: EntityManager, input: ListInvitationsInput): Promise<InvitationPage> {
  const { pending, limit, cursor } = input;
  const rows = await executePrepared(em, invitationsStatement, [pending, limit + 1, cursor?.[0] ?? null]);
  return rowsToPage(rows, limit, (invitation) => [invitation.id]);
}

/** Withdraws a pending invitation; an accepted one is a member now (deactivate the user instead). */
async function deleteInvitation(em: EntityManager, input: RevokeInvitationInput): Promise<Invitation> {
  const { githubLogin } = input;
  const [revoked] = await em.execute<Invitation[]>(
    `delete from scrum.invitations i where i.github_login = ? and i.accepted_at is null
     returning ${invitationColumnsSql('i')}`,
    [githubLogin],
  );
  if (revoked) return revoked;
  const [accepted] = await em.execute<{ user_id: number }[]>(
    'select user_id from scrum.invitations where github_login = ?',
    [githubLogin],
  );
  throw accepted
    ? new ConflictError(
        `githubLogin: ${githubLogin} already accepted (user ${accepted.user_id}); deactivate the user instead`,
        { field: 'githubLogin' },
      )
    : new NotFoundError(`githubLogin: ${githubLogin} has no invitation`, { field: 'githubLogin' });
}

/** The team's invitations (admins), pending ones by default. */
export function listInvitations(
  em: EntityManager,
  actor: ScrumActor,
  input: ListInvitationsInput,
): Promise<InvitationPage> {
  requireAdmin(actor, 'list invitations', 'pending');
  return selectInvitations(em, input);
}

/** Withdraws a pending invitation (admins): that login can no longer join. */
export function revokeInvitation(
  em: EntityManager,
  actor: ScrumActor,
  input: RevokeInvitationInput,
): Promise<Invitation> {
  requireAdmin(actor, 'revoke invitations', 'githubLogin');
  return deleteInvitation(em, input);
}

/** The operator's list of invitations (`huddle scrum invitations`), as the owner. */
export function listInvitationsAsOperator(
  em: EntityManager,
  input: ListInvitationsInput,
): Promise<InvitationPage> {
  return selectInvitations(em, input);
}

/** The operator's withdrawal of an invitation (`huddle scrum uninvite`), as the owner. */
export function revokeInvitationAsOperator(
  em: EntityManager,
  input: RevokeInvitationInput,
): Promise<Invitation> {
  return deleteInvitation(em, input);
}

/**
 * The id of the active user with `githubId`, if any: for operator tools such as the API's demo banner,
 * never a client's call.
 */
export async function findActiveUserIdByGithubId(
  em: EntityManager,
  githubId: string,
): Promise<number | null> {
  const user = await em.findOne(ScrumUser, { githubId, isActive: true }, { fields: ['id'] });
  return user?.id ?? null;
}
