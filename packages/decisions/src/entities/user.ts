import { checkIn, defineEntity, p, softDelete, timestamps, touchUpdatedAt } from '@huddle/db';
import { USER_ROLES, type UserRole } from '../schemas.ts';

/** decisions.users: people who sign in with email and password; soft-deleted users keep their history. */
const DecisionsUserSchema = defineEntity({
  name: 'DecisionsUser',
  tableName: 'users',
  properties: {
    id: p.integer().primary().autoincrement(),
    email: p.string().length(255),
    name: p.string().length(100),
    /** bcrypt, never the password. */
    passwordHash: p.string().length(100).lazy(),
    role: p.string().length(20).$type<UserRole>().default('member'),
    ...timestamps(),
    deletedAt: softDelete.property(),
  },
  indexes: [
    {
      // An active email is unique whatever its case; a soft-deleted user's email can be registered again.
      name: 'users_email_active_unique',
      expression:
        'create unique index "users_email_active_unique" on "decisions"."users" (lower("email")) where "deleted_at" is null',
    },
  ],
  checks: [checkIn('users_role_check', 'role', USER_ROLES)],
  triggers: [touchUpdatedAt],
  filters: softDelete.filters,
});
export class DecisionsUser extends DecisionsUserSchema.class {}
DecisionsUserSchema.setClass(DecisionsUser);
