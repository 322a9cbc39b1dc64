import { checkIn, createdAt, defineEntity, p } from '@huddle/db';
import { DECK_SCALES, type DeckScale } from '../schemas.ts';
import { appUserId, readOnlySelectAll, requestPolicy } from './policies.ts';
import { PokerUser } from './user.ts';

/** A user may see a deck that is built in, their own, or the deck of a session they take part in. */
const visibleDeck = `((builtin_key IS NOT NULL) OR (owner_id = ${appUserId}) OR (EXISTS ( SELECT 1
   FROM (poker.sessions s
     JOIN poker.session_participants sp ON ((sp.session_id = s.id)))
  WHERE ((s.deck_id = decks.id) AND (sp.user_id = ${appUserId})))))`;
const ownDeck = `(owner_id = ${appUserId})`;

/**
 * poker.decks (beyond the seed): the decks a session may use instead of the seed's — built in (a
 * `builtin_key`, no owner) or a user's own. The seed's deck is no row: a session without a deck uses it.
 */
const PokerDeckSchema = defineEntity({
  name: 'PokerDeck',
  tableName: 'decks',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(50),
    scale: p.string().length(10).$type<DeckScale>().default('numeric'),
    builtinKey: p.string().length(20).nullable().unique('decks_builtin_key_unique'),
    owner: () => p.manyToOne(PokerUser).ref().nullable().deleteRule('cascade').index('decks_owner_id_index'),
    createdAt: createdAt(),
  },
  checks: [
    checkIn('decks_scale_check', 'scale', DECK_SCALES),
    { name: 'decks_builtin_or_owned_check', expression: '(builtin_key is null) <> (owner_id is null)' },
  ],
  policies: [
    requestPolicy('decks_select', 'select', { using: visibleDeck }),
    requestPolicy('decks_insert', 'insert', { check: ownDeck }),
    requestPolicy('decks_delete', 'delete', { using: ownDeck }),
    readOnlySelectAll('decks'),
  ],
});
export class PokerDeck extends PokerDeckSchema.class {}
PokerDeckSchema.setClass(PokerDeck);
