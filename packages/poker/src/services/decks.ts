import {
  ConflictError,
  type EntityManager,
  executePrepared,
  ForbiddenError,
  notFound,
  outputColumnsSql,
  preparedStatement,
} from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { PokerActor } from '../actor.ts';
import {
  BUILTIN_DECKS,
  type BuiltinDeckKey,
  builtinDeckKeySchema,
  type CreateDeckInput,
  type Deck,
  type DeckCard,
  type DeckIdInput,
  type DeckPage,
  type ListDecksInput,
} from '../schemas.ts';
import { deckColumns, STANDARD_DECK } from './outputs.ts';

/**
 * Decks: the built-in ones (BUILTIN_DECKS, no rows) and a user's own (rows, among them their copies of the
 * built-in decks their sessions use). Row-level security decides which rows a request sees (its own, or the
 * deck of a session the actor takes part in) and that only owners write theirs; the services add clear
 * refusals in front.
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

/** A built-in deck as `decks.list` shows it. */
function builtinDeck(key: BuiltinDeckKey): Deck {
  const { name, scale, cards } = BUILTIN_DECKS[key];
  return {
    id: null,
    key,
    name,
    scale,
    ownerId: null,
    cards: cards.map(([card, value]) => ({ card, value })),
  };
}

/** The actor's own decks (`$1`) they made, by id, after id `$2` (null: from the first), `$3` rows. */
const myDecksStatement = preparedStatement<Deck & { id: number }>(
  'poker.my_decks',
  `select ${outputColumnsSql(deckColumns('d'))} from poker.decks d
     where d.owner_id = $1 and d.builtin_key is null and ($2::int is null or d.id > $2)
     order by d.id limit $3`,
);

/**
 * The decks a session may be created with besides the seed's (the default): the built-in ones, on the first
 * page, then the actor's own, by id.
 */
export async function listDecks(
  em: EntityManager,
  actor: PokerActor,
  { limit, cursor }: ListDecksInput,
): Promise<DeckPage> {
  const rows = await executePrepared(em, myDecksStatement, [actor.userId, cursor?.[0] ?? null, limit + 1]);
  const page = rowsToPage(rows, limit, (row) => [row.id]);
  if (cursor) return page;
  return { ...page, items: [...builtinDeckKeySchema.options.map(builtinDeck), ...page.items] };
}

/**
 * The id of the actor's copy of a built-in deck, made on first use. Race-safe: `insert … on conflict
 * (owner_id, builtin_key) do nothing`, and only the insert that made the row adds its cards.
 */
export async function builtinDeckCopy(
  em: EntityManager,
  actor: PokerActor,
  key: BuiltinDeckKey,
): Promise<number> {
  const { name, scale, cards } = BUILTIN_DECKS[key];
  const [created] = await em.execute<{ id: number }[]>(
    `insert into poker.decks (name, scale, builtin_key, owner_id) values (?, ?, ?, ?)
     on conflict (owner_id, builtin_key) do nothing returning id`,
    [name, scale, key, actor.userId],
  );
  if (created) {
    await insertCards(
      em,
      created.id,
      cards.map(([card, value]) => ({ card, value })),
    );
    return created.id;
  }
  const [existing] = await em.execute<{ id: number }[]>(
    'select id from poker.decks where owner_id = ? and builtin_key = ?',
    [actor.userId, key],
  );
  return existing!.id;
}

/** Adds `cards` to deck `deckId`, in their order. */
async function insertCards(em: EntityManager, deckId: number, cards: readonly DeckCard[]): Promise<void> {
  await em.execute(
    `insert into poker.deck_cards (deck_id, position, card, value)
     select ?, given.position, given.card ->> 'card', (given.card ->> 'value')::float8
     from jsonb_array_elements(?::jsonb) with ordinality as given(card, position)`,
    [deckId, JSON.stringify(cards)],
    'run',
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
  await insertCards(em, deck!.id, cards);
  return findDeck(em, deck!.id);
}

/** Deletes one of the actor's decks; a deck a session uses stays (CONFLICT, from its foreign key). */
export async function deleteDeck(em: EntityManager, actor: PokerActor, input: DeckIdInput): Promise<Deck> {
  const deck = await findDeck(em, input.deckId);
  if (deck.ownerId !== actor.userId) {
    throw new ForbiddenError(`deckId: only its owner may delete deck ${input.deckId}`, { field: 'deckId' });
  }
  const [inUse] = await em.execute('select 1 from poker.sessions where deck_id = ? limit 1', [input.deckId]);
  if (inUse) {
    throw new ConflictError(`deckId: deck ${input.deckId} is used by a session, so it stays`, {
      field: 'deckId',
    });
  }
  await em.execute('delete from poker.decks where id = ?', [input.deckId], 'run');
  return deck;
}
