import { APPLICATION_ROLE, createRequestRole, Migration, moveRequestAccess } from '@huddle/db';
import { POKER_REQUEST_ROLE } from '../request-role.ts';
import { PRIVILEGES } from './Migration20261122100000PokerRequestAccess.ts';

/**
 * Poker's requests get a role of their own: until now they ran as `application_user`, which every module's
 * requests shared, so a request of one module could read another's tables (password hashes included). The
 * role is created unless another database on the server created it already; `application_user` (scrum's)
 * keeps nothing in this schema. Down hands the privileges back and leaves the role, which other databases
 * on the server may use.
 */
export class Migration20261206100000PokerRequestRole extends Migration {
  override up(): void {
    for (const sql of createRequestRole(POKER_REQUEST_ROLE)) this.addSql(sql);
    for (const sql of moveRequestAccess(APPLICATION_ROLE, POKER_REQUEST_ROLE, 'poker', PRIVILEGES))
      this.addSql(sql);
  }

  override down(): void {
    for (const sql of moveRequestAccess(POKER_REQUEST_ROLE, APPLICATION_ROLE, 'poker', PRIVILEGES))
      this.addSql(sql);
  }
}
