import { defineEntity, p, readOnlySelectAll } from '@huddle/db';
import { MAX_CARD_LENGTH, MAX_DECK_CARDS } from '../schemas.ts';
import { PokerDeck } from './deck.ts';
import { appUserId, requestPolicy } from './policies.ts';

/** As visible as its deck (the decks policy applies inside the subquery). */
const visibleCard = `(EXISTS ( SELECT 1
   FROM poker.decks d
  WHERE (d.id = deck_cards.deck_id)))`;
const ownCard = `(EXISTS ( SELECT 1
   FROM poker.decks d
  WHERE ((d.id = deck_cards.deck_id) AND (d.owner_id = ${appUserId}))))`;

/**
 * poker.deck_cards (beyond the seed): a deck's cards in order. Positions 1…MAX_DECK_CARDS, unique per deck,
 * bound the count; a card fits votes.points (varchar(10)).
 */
const PokerDeckCardSchema = defineEntity({
  name: 'PokerDeckCard',
  tableName: 'deck_cards',
  properties: {
    id: p.integer().primary().autoincrement(),
    deck: () => p.manyToOne(PokerDeck).ref().deleteRule('cascade'),
    position: p.smallint(),
    card: p.string().length(MAX_CARD_LENGTH),
    /** Its number on a numeric scale, its rank on an ordinal one; null for a card that is no estimate ('?'). */
    value: p.double().nullable(),
  },
  // Both lead with deck_id, so they also cover the foreign key.
  uniques: [{ properties: ['deck', 'card'] }, { properties: ['deck', 'position'] }],
  checks: [
    { name: 'deck_cards_position_check', expression: `position >= 1 and position <= ${MAX_DECK_CARDS}` },
    { name: 'deck_cards_card_check', expression: `card <> '' and card = btrim(card)` },
  ],
  policies: [
    requestPolicy('deck_cards_select', 'select', { using: visibleCard }),
    requestPolicy('deck_cards_insert', 'insert', { check: ownCard }),
    readOnlySelectAll('deck_cards'),
  ],
});
export class PokerDeckCard extends PokerDeckCardSchema.class {}
PokerDeckCardSchema.setClass(PokerDeckCard);
