import { checkIn, defineEntity, p, readOnlySelectAll, timestamps, touchUpdatedAt } from '@huddle/db';
import { USER_ROLES, type UserRole } from '../schemas.ts';
import { appRole, appUserId, requestPolicy } from './policies.ts';

/** scrum.users: the team, signed in with GitHub; deactivated (`is_active = false`), never deleted. */
const ScrumUserSchema = defineEntity({
  name: 'ScrumUser',
  tableName: 'users',
  properties: {
    id: p.integer().primary().autoincrement(),
    githubId: p.string().length(50).unique('users_github_id_key'),
    username: p.string().length(100),
    email: p.string().length(255).nullable(),
    avatarUrl: p.string().length(500).nullable(),
    role: p.string().length(50).$type<UserRole>().index('idx_users_role'),
    isActive: p.boolean().default(true),
    ...timestamps(),
  },
  indexes: [
    // The seed's index; the unique constraint's index serves the same lookups (docs/schema/lint-allow.json).
    { name: 'idx_users_github_id', properties: ['githubId'] },
    { name: 'idx_users_active', properties: ['isActive'], where: 'is_active = true' },
  ],
  checks: [checkIn('valid_role', 'role', USER_ROLES)],
  triggers: [touchUpdatedAt],
  policies: [
    // The directory: teammates must be visible to assign a task or start a chat; deactivated users only to
    // themselves and to admins (who reactivate them).
    requestPolicy('users_select', 'select', {
      using: `is_active or id = ${appUserId} or ${appRole} = 'admin'`,
    }),
    // Role changes, deactivation and reactivation are an admin's; sign-in writes users as the owner.
    requestPolicy('users_update', 'update', { using: `${appRole} = 'admin'`, check: `${appRole} = 'admin'` }),
    readOnlySelectAll('users'),
  ],
});
export class ScrumUser extends ScrumUserSchema.class {}
ScrumUserSchema.setClass(ScrumUser);
