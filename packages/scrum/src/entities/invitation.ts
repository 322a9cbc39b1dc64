import { checkIn, createdAt, defineEntity, p, readOnlySelectAll, timestamptz } from '@huddle/db';
import { USER_ROLES, type UserRole } from '../schemas.ts';
import { appRole, appUserId, requestPolicy } from './policies.ts';
import { ScrumUser } from './user.ts';

const isAdmin = `${appRole} = 'admin'`;

/**
 * scrum.invitations (beyond the seed): sign-up is closed, so a GitHub account becomes a user only when an
 * admin (or the operator, `huddle scrum invite`) invited its login with a role. The first sign-in of that
 * login accepts the invitation (`accepted_at`, `user_id`), as the owner.
 */
const ScrumInvitationSchema = defineEntity({
  name: 'ScrumInvitation',
  tableName: 'invitations',
  properties: {
    id: p.integer().primary().autoincrement(),
    /** Lower-cased: GitHub logins are case-insensitive. */
    githubLogin: p.string().length(39).unique('invitations_github_login_unique'),
    role: p.string().length(50).$type<UserRole>(),
    /** Null when the operator invited (the CLI acts for no user). */
    invitedBy: () =>
      p
        .manyToOne(ScrumUser)
        .ref()
        .nullable()
        .updateRule('cascade')
        .deleteRule('restrict')
        .index('invitations_invited_by_id_index'),
    createdAt: createdAt(),
    acceptedAt: timestamptz().nullable(),
    /** The user the invitation became. */
    user: () =>
      p
        .manyToOne(ScrumUser)
        .ref()
        .nullable()
        .updateRule('cascade')
        .deleteRule('restrict')
        .unique('invitations_user_id_unique'),
  },
  checks: [
    checkIn('invitations_role_check', 'role', USER_ROLES),
    { name: 'invitations_github_login_check', expression: 'github_login = lower(github_login)' },
    { name: 'invitations_accepted_check', expression: '(accepted_at is null) = (user_id is null)' },
  ],
  policies: [
    // Who may join is an admin's business: only admins see and withdraw invitations, and invite in their own name.
    requestPolicy('invitations_select', 'select', { using: isAdmin }),
    requestPolicy('invitations_insert', 'insert', { check: `${isAdmin} and invited_by_id = ${appUserId}` }),
    requestPolicy('invitations_delete', 'delete', { using: `${isAdmin} and accepted_at is null` }),
    readOnlySelectAll('invitations'),
  ],
});
export class ScrumInvitation extends ScrumInvitationSchema.class {}
ScrumInvitationSchema.setClass(ScrumInvitation);
