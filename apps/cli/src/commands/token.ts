import { Command } from '@commander-js/extra-typings';
import { domainModules, issueToken, resolveSecret } from '@huddle/api';
import { databaseTargetFromEnv, findModule } from '@huddle/db';
import { output } from '../context.ts';

export const tokenCommand = new Command('token').description('API bearer tokens');

tokenCommand
  .command('issue')
  .description('issue a signed, expiring bearer token acting as a user of one module')
  .requiredOption('--module <name>', 'the module the token is for, e.g. poker')
  .requiredOption('--user <id>', "the user's id in that module")
  .option('--ttl <duration>', 'lifetime such as 30m, 12h or 7d', '12h')
  .option('--json', 'print the result as JSON')
  .action(async (options) => {
    findModule(domainModules, options.module);
    const secret = await resolveSecret(databaseTargetFromEnv());
    const issued = await issueToken(secret, { module: options.module, userId: options.user }, options.ttl);
    output(options.json, { ...issued, module: options.module, userId: options.user }, () => issued.token);
  });
