import { pino } from 'pino';

/** Structured logs for operators (JSON on stderr); HUDDLE_LOG_LEVEL=debug for more, silent for none. */
export const logger = pino(
  { name: 'huddle-api', level: process.env.HUDDLE_LOG_LEVEL ?? 'info' },
  pino.destination(2),
);
