import { checkIn, createdAt, defineEntity, p, readOnlySelectAll } from '@huddle/db';
import { DECK_SCALES, type DeckScale } from '../schemas.ts';
import { appUserId, requestPolicy } from './policies.ts';
import { PokerUser } from './user.ts';

/** A user may see their own decks and the deck of a session they take part in. */
const visibleDeck = `((owner_id = ${appUserId}) OR (EXISTS ( SELECT 1
   FROM (poker.sessions s
     JOIN poker.session_participants sp ON ((sp.session_id = s.id)))
  WHERE ((s.deck_id = decks.id) AND (sp.user_id = ${appUserId})))))`;
const ownDeck = `(owner_id = ${appUserId})`;

/**
 * poker.decks (beyond the seed): the decks a session may use instead of the seed's, each a user's own: one
 * they made, or their copy of a built-in deck (`builtin_key`; BUILTIN_DECKS in schemas.ts, copied when they
 * first create a session with it). The seed's deck is no row: a session without a deck uses it. Built-in
 * decks are no rows either, so a freshly migrated database holds no data (a restore needs it empty).
 */
const PokerDeckSchema = defineEntity({
  name: 'PokerDeck',
  tableName: 'decks',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(50),
    scale: p.string().length(10).$type<DeckScale>().default('numeric'),
    builtinKey: p.string().length(20).nullable(),
    owner: () => p.manyToOne(PokerUser).ref().deleteRule('cascade'),
    createdAt: createdAt(),
  },
  // One copy of each built-in deck per user; leads with owner_id, so it also covers that foreign key.
  uniques: [{ properties: ['owner', 'builtinKey'] }],
  checks: [checkIn('decks_scale_check', 'scale', DECK_SCALES)],
  policies: [
    requestPolicy('decks_select', 'select', { using: visibleDeck }),
    requestPolicy('decks_insert', 'insert', { check: ownDeck }),
    requestPolicy('decks_delete', 'delete', { using: ownDeck }),
    readOnlySelectAll('decks'),
  ],
});
export class PokerDeck extends PokerDeckSchema.class {}
PokerDeckSchema.setClass(PokerDeck);
