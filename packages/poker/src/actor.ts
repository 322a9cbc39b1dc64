import {
  type ActorSpec,
  type EntityManager,
  type ModuleActor,
  parseSerialSubject,
  UnauthorizedError,
} from '@huddle/db';

/** A poker user acting: `userId` is a row of poker.users. */
export interface PokerActor extends ModuleActor<'poker'> {
  readonly userId: number;
}

/** A token subject is a poker.users id: a positive integer in PostgreSQL's `integer` range, of a user that exists. */
export const pokerActor: ActorSpec<PokerActor> = {
  parse(subject) {
    const userId = parseSerialSubject('poker', subject);
    return { module: 'poker', userId };
  },
  subject: (actor) => String(actor.userId),
  async load(em: EntityManager, actor) {
    const found: unknown[] = await em.execute('select 1 from poker.users where id = ?', [actor.userId]);
    if (found.length === 0) throw new UnauthorizedError(`subject: poker user ${actor.userId} does not exist`);
    return actor;
  },
};
