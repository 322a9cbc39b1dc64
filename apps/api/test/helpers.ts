import type { Database } from '@huddle/db';
import { type ApiServer, startApiServer } from '../src/server.ts';

export const TEST_SECRET = new TextEncoder().encode('test-secret-of-at-least-thirty-two-characters');

/** An API server on a free port over `db`, for one test file. */
export function startTestServer(db: Database): Promise<ApiServer> {
  return startApiServer({ db, secret: TEST_SECRET, port: 0, host: '127.0.0.1' });
}
