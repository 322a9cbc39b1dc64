import { Command } from '@commander-js/extra-typings';
import { type CliIo, output, withDatabase } from '../context.ts';

export function tokenCommand(io: CliIo) {
  const token = new Command('token').description('API bearer tokens');

  token
    .command('issue')
    .description(
      'issue a signed, expiring bearer token acting as a user of one module (a session of its own, revocable)',
    )
    .requiredOption('--module <name>', 'the module the token is for, e.g. poker')
    .requiredOption('--user <subject>', "the user in that module (poker: the user's id)")
    .option('--ttl <duration>', 'lifetime such as 30m, 12h or 7d', '12h')
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      const [
        { actorSpecOf, domainModules, issueSessionToken, parseTtl, resolveSecret },
        { inRequestScope, loadActor },
      ] = await Promise.all([import('@huddle/composition'), import('@huddle/db')]);
      // The module's own rules decide what a subject is, and the user must exist: never sign what a request
      // would refuse.
      const spec = actorSpecOf(domainModules, options.module);
      const actor = spec.parse(options.user);
      const subject = spec.subject(actor);
      parseTtl(options.ttl);
      const issued = await withDatabase(
        io,
        async (db) => {
          await inRequestScope(db.orm, (em) => loadActor(em, spec, actor));
          return issueSessionToken(
            db,
            await resolveSecret(db.target, io.env),
            { module: options.module, subject },
            options.ttl,
          );
        },
        { modules: [options.module] },
      );
      output(io, options.json, { ...issued, module: options.module, subject }, () => issued.token);
    });

  return token;
}
