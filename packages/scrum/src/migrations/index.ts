import { migrationList } from '@huddle/db';
import { Migration20261122200000ScrumInitial } from './Migration20261122200000ScrumInitial.ts';
import { Migration20261122200100ScrumRequestAccess } from './Migration20261122200100ScrumRequestAccess.ts';
import { Migration20261206070000ScrumSignUp } from './Migration20261206070000ScrumSignUp.ts';
import { Migration20261206120000ScrumTaskActivity } from './Migration20261206120000ScrumTaskActivity.ts';
import { Migration20261206140000ScrumInvitationRevoke } from './Migration20261206140000ScrumInvitationRevoke.ts';

/** The scrum module's migrations, oldest first (class names sort in the order they apply). */
export const scrumMigrations = migrationList(
  Migration20261122200000ScrumInitial,
  Migration20261122200100ScrumRequestAccess,
  Migration20261206070000ScrumSignUp,
  Migration20261206120000ScrumTaskActivity,
  Migration20261206140000ScrumInvitationRevoke,
);
