import { type ActorSpec, type ModuleActor, parseSerialSubject, UnauthorizedError } from '@huddle/db';
import type { UserRole } from './schemas.ts';

/** A scrum user acting: `userId` is a row of scrum.users, `role` its current role there. */
export interface ScrumActor extends ModuleActor<'scrum'> {
  readonly userId: number;
  readonly role: UserRole;
}

/**
 * A token subject is a scrum.users id. The role is never taken from the token: `load` reads the user's
 * current role at the start of every request, so a role change or a deactivation takes effect at once.
 */
export const scrumActor: ActorSpec<ScrumActor> = {
  parse(subject) {
    const userId = parseSerialSubject('scrum', subject);
    // The placeholder role is replaced by `load` before any service runs.
    return { module: 'scrum', userId, role: 'developer' };
  },
  subject: (actor) => String(actor.userId),
  load: {
    sql: 'select id, role, is_active from scrum.users where id = ?',
    params: (actor) => [actor.userId],
    confirm(actor, row) {
      if (!row) throw new UnauthorizedError(`subject: scrum user ${actor.userId} does not exist`);
      if (!row.is_active) throw new UnauthorizedError(`subject: scrum user ${actor.userId} is deactivated`);
      return { module: 'scrum', userId: actor.userId, role: row.role as UserRole };
    },
    settings: { 'app.user_id': 'id', 'app.user_role': 'role' },
  },
  isAdmin: (actor) => actor.role === 'admin',
};
