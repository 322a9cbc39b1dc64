/**
 * The role decisions's requests run as (`decisionsModule.requestRole`): granted decisions's tables only, so a decisions request
 * cannot read another module's (`Migration20261206100000DecisionsRequestRole`).
 */
export const DECISIONS_REQUEST_ROLE = 'huddle_decisions_request';
