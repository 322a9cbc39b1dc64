import { EventEmitter, on } from 'node:events';
import { TOKEN_EXPIRED_MESSAGE } from '@huddle/composition';
import {
  type Database,
  SESSION_REVOCATIONS_CHANNEL,
  type SessionSubject,
  sessionEndedError,
  sessionRevocationSchema,
  UnauthorizedError,
} from '@huddle/db';
import type { OpenStreams } from './stream-limits.ts';
import { toTRPCError } from './trpc.ts';

/**
 * A subscription's first message: sent once the server is listening, so a client knows that every event
 * committed from now on will reach it.
 */
export type SubscribedMessage = { type: 'subscribed' };

/** The credential a stream was opened with: it ends when that session or key is revoked or expires. */
export interface StreamCredential extends SessionSubject {
  sessionId: string;
  /** When the credential stops being valid (epoch milliseconds): the access token's or the key's end. */
  endsAt: number | undefined;
}

/** setTimeout's longest delay; a later end is reached in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Calls `ended` with the error a stream of `credential` ends with: UNAUTHORIZED once a revocation notice
 * names its session (or every session of its subject), from any API process, or once its token expires (a
 * timer). Returns what stops watching.
 */
async function watchCredential(
  db: Database,
  credential: StreamCredential,
  ended: (error: Error) => void,
): Promise<() => Promise<void>> {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (credential.endsAt === undefined) return;
    const left = credential.endsAt - Date.now();
    if (left <= 0) ended(toTRPCError(new UnauthorizedError(TOKEN_EXPIRED_MESSAGE)));
    else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  const unlisten = await db.events.listen(SESSION_REVOCATIONS_CHANNEL, (payload) => {
    const notice = sessionRevocationSchema.safeParse(payload);
    if (
      notice.success &&
      notice.data.module === credential.module &&
      notice.data.subject === credential.subject &&
      (notice.data.session === undefined || notice.data.session === credential.sessionId)
    ) {
      ended(toTRPCError(sessionEndedError()));
    }
  });
  arm();
  return async () => {
    clearTimeout(timer);
    await unlisten();
  };
}

/**
 * The events of `channel` that `select` keeps (it parses a payload and returns undefined for one the
 * subscriber may not see), after a first `subscribed` message, until `signal` aborts. LISTEN/NOTIFY through
 * `db.events`: events committed by every API process on the database arrive. Should the process's event
 * connection drop, the stream ends with SERVICE_UNAVAILABLE (events may have been missed): the subscriber
 * subscribes again and re-reads what it shows. Each stream counts against its owner's limit of open streams
 * (`ctx.streams`) until it ends; one over the limit ends at once with TOO_MANY_REQUESTS. The stream ends with
 * UNAUTHORIZED within moments of its credential's session or key being revoked, or its token expiring
 * (`watchCredential`): the typed client refreshes and subscribes again, or tells its caller to sign in.
 */
export async function* eventStream<Event>(
  ctx: { db: Database; streams: OpenStreams; streamOwner: string },
  credential: StreamCredential,
  channel: string,
  signal: AbortSignal | undefined,
  select: (payload: unknown) => Event | undefined,
): AsyncGenerator<Event | SubscribedMessage> {
  let close: () => void;
  try {
    close = ctx.streams.open(ctx.streamOwner);
  } catch (error) {
    throw toTRPCError(error);
  }
  try {
    const events = new EventEmitter();
    // Iterating from before the LISTEN: events and a lost connection that arrive before the first read wait.
    const received = on(events, 'event', { signal });
    const unlisten = await ctx.db.events.listen(
      channel,
      (payload) => {
        const event = select(payload);
        if (event !== undefined) events.emit('event', event);
      },
      (lost) => events.emit('error', toTRPCError(lost)),
    );
    try {
      const unwatch = await watchCredential(ctx.db, credential, (error) => events.emit('error', error));
      try {
        yield { type: 'subscribed' };
        for await (const [event] of received) yield event as Event;
      } finally {
        await unwatch();
      }
    } finally {
      await unlisten();
    }
  } finally {
    close();
  }
}
