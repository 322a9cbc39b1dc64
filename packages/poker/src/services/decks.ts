import {
  type EntityManager,
  executePrepared,
  ForbiddenError,
  notFound,
  outputColumnsSql,
  preparedStatement,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { PokerActor } from '../actor.ts';
import type { CreateDeckInput, Deck, DeckIdInput, DeckPage, ListDecksInput } from '../schemas.ts';
import { deckColumns, STANDARD_DECK } from './outputs.ts';

/**
 * Decks: the built-in ones and a user's own. Row-level security decides which a request sees (built in,
 * own, or the deck of a session the actor takes part in) and that only owners write theirs; the services
 * add clear refusals in front.
 */

/** One deck `$1` as the request may see it. */
const deckStatement = preparedStatement<Deck>(
  'poker.deck',
  `select ${outputColumnsSql(deckColumns('d'))} from poker.decks d where d.id = $1`,
);

/** A deck the request may see; NotFoundError names `deckId` otherwise (row-level security hides the others). */
export async function findDeck(em: EntityManager, deckId: number): Promise<Deck> {
  const [deck] = await executePrepared(em, deckStatement, [deckId]);
  if (!deck) throw notFound('deckId', 'deck', deckId);
  return deck;
}

/** The deck of a session: its own, or the seed's. */
export function sessionDeck(em: EntityManager, deckId: number | null): Promise<Deck> {
  return deckId === null ? Promise.resolve(STANDARD_DECK) : findDeck(em, deckId);
}

/** Built-in decks first, then the actor's own, by id; `$1` the actor, `$2` after this id, `$3` rows. */
const myDecksStatement = preparedStatement<Deck>(
  'poker.my_decks',
  `select ${outputColumnsSql(deckColumns('d'))} from poker.decks d
     where (d.builtin_key is not null or d.owner_id = $1) and ($2::int is null or d.id > $2)
     order by d.id limit $3`,
);

/** The decks a session may be created with: the built-in ones (the seed's is the default) and the actor's. */
export async function listDecks(
  em: EntityManager,
  actor: PokerActor,
  { limit, cursor }: ListDecksInput,
): Promise<DeckPage> {
  const rows = await executePrepared(em, myDecksStatement, [actor.userId, cursor?.[0] ?? null, limit + 1]);
  return toPage(
    rows,
    limit,
    (row) => row,
    (row) => [row.id],
  );
}

/** A deck of the actor's own, its cards in the order given. */
export async function createDeck(
  em: EntityManager,
  actor: PokerActor,
  input: CreateDeckInput,
): Promise<Deck> {
  const { name, scale, cards } = input;
  const [deck] = await em.execute<{ id: number }[]>(
    'insert into poker.decks (name, scale, owner_id) values (?, ?, ?) returning id',
    [name, scale, actor.userId],
  );
  await em.execute(
    `insert into poker.deck_cards (deck_id, position, card, value)
     select ?, given.position, given.card ->> 'card', (given.card ->> 'value')::float8
     from jsonb_array_elements(?::jsonb) with ordinality as given(card, position)`,
    [deck!.id, JSON.stringify(cards)],
    'run',
  );
  return findDeck(em, deck!.id);
}

/** Deletes one of the actor's decks; a deck a session uses stays (CONFLICT, from its foreign key). */
export async function deleteDeck(em: EntityManager, actor: PokerActor, input: DeckIdInput): Promise<Deck> {
  const deck = await findDeck(em, input.deckId);
  if (deck.ownerId !== actor.userId) {
    throw new ForbiddenError(`deckId: only its owner may delete deck ${input.deckId}`, { field: 'deckId' });
  }
  await em.execute('delete from poker.decks where id = ?', [input.deckId], 'run');
  return deck;
}
