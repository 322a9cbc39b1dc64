import { Command, Option } from '@commander-js/extra-typings';
import { type CliIo, output, withDatabase } from '../context.ts';

/** Service keys: programs' credentials, scoped to one module and a user's rights (or read-only). */
export function keysCommand(io: CliIo) {
  const keys = new Command('keys').description("service keys for programs (the API's auth.keys.*)");

  keys
    .command('create')
    .description('create a service key acting as a user of one module; its secret is printed once')
    .requiredOption('--module <name>', 'the module the key is for, e.g. scrum')
    .requiredOption('--user <subject>', "the user it acts as (that user's rights, or fewer with --read-only)")
    .requiredOption('--name <name>', 'what the key is for, shown in lists')
    .option('--read-only', 'queries and subscriptions only')
    .option('--ttl <duration>', 'expire after a duration such as 30d (default: never)')
    .option('--json', 'print the result as JSON')
    .action((options) =>
      withDatabase(
        io,
        async (db) => {
          const [
            { actorSpecOf, domainModules, parseTtl },
            { createServiceKey, findModule, inRequestScope, loadActor },
          ] = await Promise.all([import('@huddle/composition'), import('@huddle/db')]);
          const spec = actorSpecOf(domainModules, options.module);
          const actor = spec.parse(options.user);
          const expiresAt =
            options.ttl === undefined ? undefined : new Date(Date.now() + parseTtl(options.ttl));
          const created = await inRequestScope(db.orm, async (em) => {
            await loadActor(em, spec, actor);
            return createServiceKey(em, findModule(db.modules, options.module), spec.subject(actor), {
              name: options.name,
              readOnly: options.readOnly === true,
              expiresAt,
              createdBy: 'cli',
            });
          });
          output(io, options.json, created, () => created.key);
        },
        { modules: [options.module] },
      ),
    );

  keys
    .command('list')
    .description("a module's service keys, newest first, with their last use (never their secrets)")
    .requiredOption('--module <name>', 'the module, e.g. scrum')
    .addOption(new Option('--limit <n>', 'at most this many').default(50).argParser(Number))
    .option('--json', 'print the result as JSON')
    .action((options) =>
      withDatabase(
        io,
        async (db) => {
          const { inRequestScope, listServiceKeys } = await import('@huddle/db');
          const { pageLimit } = await import('@huddle/db/zod');
          const limit = pageLimit(50).parse(options.limit);
          const rows = await inRequestScope(db.orm, (em) => listServiceKeys(em, options.module, { limit }));
          const listed = rows.slice(0, limit).map(({ cursorAt, ...key }) => key);
          output(
            io,
            options.json,
            listed,
            () =>
              listed
                .map(
                  (key) =>
                    `${key.id}  ${key.name}  ${key.subject}  ${key.readOnly ? 'read-only' : 'read-write'}  last used ${key.lastUsedAt}${key.revokedAt ? `  revoked ${key.revokedAt}` : ''}`,
                )
                .join('\n') || 'no service keys',
          );
        },
        { modules: [options.module] },
      ),
    );

  keys
    .command('revoke')
    .description('revoke a service key: it stops working at once, open streams included')
    .argument('<id>', 'the key id (from keys list)')
    .requiredOption('--module <name>', 'the module, e.g. scrum')
    .action((id, options) =>
      withDatabase(
        io,
        async (db) => {
          const { inRequestScope, InvalidInputError, revokeServiceKey } = await import('@huddle/db');
          const { z } = await import('zod');
          if (!z.uuid().safeParse(id).success) {
            throw new InvalidInputError('id: must be a key id from huddle keys list', { field: 'id' });
          }
          await inRequestScope(db.orm, (em) => revokeServiceKey(em, options.module, id));
          io.stdout.write(`revoked ${id}\n`);
        },
        { modules: [options.module] },
      ),
    );

  return keys;
}
