import { APPLICATION_ROLE, createRequestRole, Migration, moveRequestAccess } from '@huddle/db';
import { DECISIONS_REQUEST_ROLE } from '../request-role.ts';
import { PRIVILEGES } from './Migration20261122200100DecisionsRequestAccess.ts';

/** Every column of `decisions.users` but `password_hash`. */
const READ_ONLY_USER_COLUMNS = ['id', 'email', 'name', 'role', 'created_at', 'updated_at', 'deleted_at']
  .map((column) => `"${column}"`)
  .join(', ');

/**
 * The decisions module's requests get a role of their own: until now they ran as `application_user`, which
 * every module's requests shared, so a request of one module could read another's tables (these password
 * hashes included). The role is created unless another database on the server created it already;
 * `application_user` (scrum's) keeps nothing in this schema. `read_only_user` reads every column of users
 * but `password_hash`: a column cannot be taken out of a table-wide grant, so that grant becomes one on the
 * other columns (a column added later stays unreadable to it until granted). Down hands the privileges back
 * and leaves the role, which other databases on the server may use.
 */
export class Migration20261206100000DecisionsRequestRole extends Migration {
  override up(): void {
    for (const sql of createRequestRole(DECISIONS_REQUEST_ROLE)) this.addSql(sql);
    for (const sql of moveRequestAccess(APPLICATION_ROLE, DECISIONS_REQUEST_ROLE, 'decisions', PRIVILEGES))
      this.addSql(sql);
    this.addSql('revoke select on "decisions"."users" from read_only_user;');
    this.addSql(`grant select (${READ_ONLY_USER_COLUMNS}) on "decisions"."users" to read_only_user;`);
  }

  override down(): void {
    this.addSql(`revoke select (${READ_ONLY_USER_COLUMNS}) on "decisions"."users" from read_only_user;`);
    for (const sql of moveRequestAccess(DECISIONS_REQUEST_ROLE, APPLICATION_ROLE, 'decisions', PRIVILEGES))
      this.addSql(sql);
  }
}
