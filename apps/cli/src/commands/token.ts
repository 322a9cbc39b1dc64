import { Command } from '@commander-js/extra-typings';
import { actorSpecOf, domainModules, issueToken, resolveSecret } from '@huddle/composition';
import { inRequestScope } from '@huddle/db';
import { output, withDatabase } from '../context.ts';

export const tokenCommand = new Command('token').description('API bearer tokens');

tokenCommand
  .command('issue')
  .description('issue a signed, expiring bearer token acting as a user of one module')
  .requiredOption('--module <name>', 'the module the token is for, e.g. poker')
  .requiredOption('--user <subject>', "the user in that module (poker: the user's id)")
  .option('--ttl <duration>', 'lifetime such as 30m, 12h or 7d', '12h')
  .option('--json', 'print the result as JSON')
  .action(async (options) => {
    // The module's own rules decide what a subject is, and the user must exist: never sign what a request would refuse.
    const spec = actorSpecOf(domainModules, options.module);
    const actor = spec.parse(options.user);
    const issued = await withDatabase(async (db) => {
      await inRequestScope(db.orm, (em) => spec.load(em, actor));
      return issueToken(
        await resolveSecret(db.target),
        { module: options.module, subject: spec.subject(actor) },
        options.ttl,
      );
    });
    output(
      options.json,
      { ...issued, module: options.module, subject: spec.subject(actor) },
      () => issued.token,
    );
  });
