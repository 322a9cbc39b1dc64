import { type ActorSpec, type ModuleActor, parseSerialSubject, UnauthorizedError } from '@huddle/db';
import type { UserRole } from './schemas.ts';

/** A decisions user acting: `userId` is a live row of decisions.users, `role` its role when the request began. */
export interface DecisionsActor extends ModuleActor<'decisions'> {
  readonly userId: number;
  readonly role: UserRole;
}

/**
 * A token subject is a decisions.users id. The role is not in the token: `load` reads the current one at the
 * start of every request, so a changed role or a soft delete takes effect on the next request.
 */
export const decisionsActor: ActorSpec<DecisionsActor> = {
  parse(subject) {
    const userId = parseSerialSubject('decisions', subject);
    // The least role until `load` reads the real one; runAsActor always loads before a service runs.
    return { module: 'decisions', userId, role: 'viewer' };
  },
  subject: (actor) => String(actor.userId),
  load: {
    sql: 'select id, role from decisions.users where id = ? and deleted_at is null',
    params: (actor) => [actor.userId],
    confirm(actor, row) {
      if (!row)
        throw new UnauthorizedError(`subject: decisions user ${actor.userId} does not exist or was deleted`);
      return { module: 'decisions', userId: actor.userId, role: row.role as UserRole };
    },
    // Who a revision records as its author (the record_revision trigger) and whose revisions a request reads.
    settings: { 'app.user_id': 'id' },
  },
  isAdmin: (actor) => actor.role === 'director',
};
