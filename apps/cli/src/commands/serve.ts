import { Command } from '@commander-js/extra-typings';
import type { CliIo } from '../context.ts';

export function serveCommand(runCli: (argv: readonly string[], io: CliIo) => Promise<number>) {
  return new Command('serve')
    .description(
      'serve the API on DATABASE_URL or the embedded database (HUDDLE_HOST:HUDDLE_PORT, default 127.0.0.1:4000) until SIGINT or SIGTERM; on the embedded database, the other huddle commands keep working through it',
    )
    .action(async () => {
      const [{ useAdminCommands }, { serveAdminCommands }] = await Promise.all([
        import('@huddle/api/admin-commands'),
        import('../admin-socket.ts'),
      ]);
      // The data directory is the server's alone while it runs: the CLI's commands reach it through the
      // server, which runs them on its own open database.
      useAdminCommands((db, onError) => serveAdminCommands(db, runCli, onError));
      // The API's program, as `pnpm start` runs it: it reads the process's environment (tracing first, when
      // the OTEL_* variables ask for it), listens, and exits on SIGINT or SIGTERM once it has drained.
      await import('@huddle/api/start');
    });
}
