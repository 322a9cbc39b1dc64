/**
 * The role poker's requests run as (`pokerModule.requestRole`): granted poker's tables only, so a poker request
 * cannot read another module's (`Migration20261206100000PokerRequestRole`).
 */
export const POKER_REQUEST_ROLE = 'huddle_poker_request';
