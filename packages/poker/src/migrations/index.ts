import { migrationList } from '@huddle/db';
import { Migration20261121100000PokerInitial } from './Migration20261121100000PokerInitial.ts';
import { Migration20261121100100PokerParticipants } from './Migration20261121100100PokerParticipants.ts';
import { Migration20261122100000PokerRequestAccess } from './Migration20261122100000PokerRequestAccess.ts';
import { Migration20261122100100PokerJoinCodes } from './Migration20261122100100PokerJoinCodes.ts';
import { Migration20261206100000PokerRequestRole } from './Migration20261206100000PokerRequestRole.ts';
import { Migration20261206120000PokerDecksAndRounds } from './Migration20261206120000PokerDecksAndRounds.ts';
import { Migration20261206140000PokerDeviceLinks } from './Migration20261206140000PokerDeviceLinks.ts';

/** The poker module's migrations, oldest first (class names sort in the order they apply). */
export const pokerMigrations = migrationList(
  Migration20261121100000PokerInitial,
  Migration20261121100100PokerParticipants,
  Migration20261122100000PokerRequestAccess,
  Migration20261122100100PokerJoinCodes,
  Migration20261206100000PokerRequestRole,
  Migration20261206120000PokerDecksAndRounds,
  Migration20261206140000PokerDeviceLinks,
);
