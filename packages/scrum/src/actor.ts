import {
  type ActorSpec,
  type EntityManager,
  type ModuleActor,
  parseSerialSubject,
  UnauthorizedError,
} from '@huddle/db';
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
  async load(em: EntityManager, actor) {
    const [user] = await em.execute<{ role: UserRole; is_active: boolean }[]>(
      'select role, is_active from scrum.users where id = ?',
      [actor.userId],
    );
    if (!user) throw new UnauthorizedError(`subject: scrum user ${actor.userId} does not exist`);
    if (!user.is_active) throw new UnauthorizedError(`subject: scrum user ${actor.userId} is deactivated`);
    return { module: 'scrum', userId: actor.userId, role: user.role };
  },
  settings: (actor) => ({ 'app.user_id': String(actor.userId), 'app.user_role': actor.role }),
};
