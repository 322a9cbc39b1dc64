import { migrationList } from '@huddle/db';
import { Migration20261122200000DecisionsInitial } from './Migration20261122200000DecisionsInitial.ts';
import { Migration20261122200100DecisionsRequestAccess } from './Migration20261122200100DecisionsRequestAccess.ts';
import { Migration20261206070000DecisionsProjectNamePerCreator } from './Migration20261206070000DecisionsProjectNamePerCreator.ts';
import { Migration20261206100000DecisionsRequestRole } from './Migration20261206100000DecisionsRequestRole.ts';
import { Migration20261206120000DecisionsLog } from './Migration20261206120000DecisionsLog.ts';
import { Migration20261206120000DecisionsProposalTitleKey } from './Migration20261206120000DecisionsProposalTitleKey.ts';
import { Migration20261206140000DecisionsPasswordResets } from './Migration20261206140000DecisionsPasswordResets.ts';

/** The decisions module's migrations, oldest first (class names sort in the order they apply). */
export const decisionsMigrations = migrationList(
  Migration20261122200000DecisionsInitial,
  Migration20261122200100DecisionsRequestAccess,
  Migration20261206070000DecisionsProjectNamePerCreator,
  Migration20261206100000DecisionsRequestRole,
  Migration20261206120000DecisionsLog,
  Migration20261206120000DecisionsProposalTitleKey,
  Migration20261206140000DecisionsPasswordResets,
);
