import { Command } from '@commander-js/extra-typings';

export function serveCommand() {
  return new Command('serve')
    .description(
      'serve the API on DATABASE_URL or the embedded database (HUDDLE_HOST:HUDDLE_PORT, default 127.0.0.1:4000) until SIGINT or SIGTERM',
    )
    .action(async () => {
      // The API's program, as `pnpm start` runs it: it reads the process's environment (tracing first, when
      // the OTEL_* variables ask for it), listens, and exits on SIGINT or SIGTERM once it has drained.
      await import('@huddle/api/start');
    });
}
