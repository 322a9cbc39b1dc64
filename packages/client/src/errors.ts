import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from './router.ts';

/**
 * Whether a call failed with the API's answer (or a network failure), typed with the API's error shape:
 * `error.data.code` is the tRPC code, `error.data.field` the input field a `BAD_REQUEST` names and
 * `error.data.retryAfter` the seconds a `TOO_MANY_REQUESTS` asks to wait.
 */
export function isHuddleClientError(cause: unknown): cause is TRPCClientError<AppRouter> {
  return cause instanceof TRPCClientError;
}
