import { pino } from 'pino';

/**
 * Structured logs for operators (JSON on stderr); HUDDLE_LOG_LEVEL=debug for more, silent for none. Lines
 * are written asynchronously (buffered while a write is in flight, flushed on exit): a synchronous write
 * per access line cost the request path a system call each.
 */
export const logger = pino(
  { name: 'huddle-api', level: process.env.HUDDLE_LOG_LEVEL ?? 'info' },
  pino.destination({ dest: 2, sync: false }),
);
