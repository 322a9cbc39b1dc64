import { APPLICATION_ROLE, Migration } from '@huddle/db';

/**
 * Admins withdraw pending invitations (issue 23): the request role may delete an invitation, and the policy
 * lets only admins, and only pending ones (an accepted invitation records how a member joined). Additive; grants as in Migration20261206070000ScrumSignUp (no `all sequences` here).
 */
export class Migration20261206140000ScrumInvitationRevoke extends Migration {
  override up(): void {
    this.addSql(
      `create policy "invitations_delete" on "scrum"."invitations" for delete to "${APPLICATION_ROLE}" using ((select current_setting('app.user_role', true) as user_role) = 'admin' and accepted_at is null);`,
    );
    this.addSql(`grant delete on "scrum"."invitations" to "${APPLICATION_ROLE}";`);
  }

  override down(): void {
    this.addSql(`revoke delete on "scrum"."invitations" from "${APPLICATION_ROLE}";`);
    this.addSql(`drop policy if exists "invitations_delete" on "scrum"."invitations";`);
  }
}
