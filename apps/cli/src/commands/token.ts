import { Command } from '@commander-js/extra-typings';
import { type CliIo, output } from '../context.ts';

export function tokenCommand(io: CliIo) {
  const token = new Command('token').description('API bearer tokens');

  token
    .command('issue')
    .description('issue a signed, expiring bearer token acting as a user of one module')
    .requiredOption('--module <name>', 'the module the token is for, e.g. poker')
    .requiredOption('--user <id>', "the user's id in that module")
    .option('--ttl <duration>', 'lifetime such as 30m, 12h or 7d', '12h')
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      const [{ domainModules, issueToken, resolveSecret }, { databaseTargetFromEnv, findModule }] =
        await Promise.all([import('@huddle/api'), import('@huddle/db')]);
      findModule(domainModules, options.module);
      const secret = await resolveSecret(databaseTargetFromEnv(io.env), io.env);
      const issued = await issueToken(secret, { module: options.module, userId: options.user }, options.ttl);
      output(
        io,
        options.json,
        { ...issued, module: options.module, userId: options.user },
        () => issued.token,
      );
    });

  return token;
}
