import { Command } from '@commander-js/extra-typings';
import { type CliIo, output, withDatabase } from '../context.ts';

/** The scrum module's team: sign-up is closed, so people join by invitation. */
export function scrumCommand(io: CliIo) {
  const scrum = new Command('scrum').description("scrum's team: who may sign in with GitHub");

  scrum
    .command('invite')
    .description(
      'invite a GitHub login to join with a role (its first GitHub sign-in creates the user): how a new team gets its first admin',
    )
    .argument('<github-login>', 'the GitHub login')
    .option('--role <role>', 'developer, designer, tester, project_manager or admin', 'developer')
    .option('--json', 'print the result as JSON')
    .action((githubLogin, options) =>
      withDatabase(
        io,
        async (db) => {
          const [{ inRequestScope, parseInput }, { inviteUserAsOperator, inviteUserInputSchema }] =
            await Promise.all([import('@huddle/db'), import('@huddle/scrum')]);
          const input = parseInput(inviteUserInputSchema, { githubLogin, role: options.role });
          const invitation = await inRequestScope(db.orm, (em) => inviteUserAsOperator(em, input));
          output(
            io,
            options.json,
            invitation,
            () =>
              `invited ${invitation.githubLogin} as ${invitation.role}: their first GitHub sign-in creates the user`,
          );
        },
        { modules: ['scrum'] },
      ),
    );

  return scrum;
}
