import { MAX_BATCH_CALLS } from '@huddle/client/limits';

/** Longest procedure path an access line or a trace repeats (a client can send any path). */
const MAX_LOGGED_PATH = 100;

/**
 * The procedures a tRPC URL names (`/poker.me,health?batch=1` → `poker.me`, `health`), never its query
 * string: a GET's input (which may hold a password) travels there. Its own module, without the server's
 * imports: tracing names request spans with it and loads before the rest of the API (tracing.ts).
 */
export function procedurePaths(url: string | undefined): string[] {
  const pathname = URL.parse(url ?? '/', 'http://localhost')?.pathname ?? '/';
  return pathname
    .slice(1)
    .split(',')
    .slice(0, MAX_BATCH_CALLS + 1)
    .map((path) => path.slice(0, MAX_LOGGED_PATH));
}
