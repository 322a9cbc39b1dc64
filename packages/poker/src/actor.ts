import { type ActorSpec, type ModuleActor, parseSerialSubject, UnauthorizedError } from '@huddle/db';

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
  load: {
    sql: 'select id from poker.users where id = ?',
    params: (actor) => [actor.userId],
    // For the row-level-security policies on poker.decks and poker.deck_cards.
    settings: { 'app.user_id': 'id' },
    confirm(actor, row) {
      if (!row) throw new UnauthorizedError(`subject: poker user ${actor.userId} does not exist`);
      return actor;
    },
  },
};
