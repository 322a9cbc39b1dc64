import { EventEmitter, on } from 'node:events';
import type { Database } from '@huddle/db';
import type { OpenStreams } from './stream-limits.ts';
import { toTRPCError } from './trpc.ts';

/**
 * A subscription's first message: sent once the server is listening, so a client knows that every event
 * committed from now on will reach it.
 */
export type SubscribedMessage = { type: 'subscribed' };

/**
 * The events of `channel` that `select` keeps (it parses a payload and returns undefined for one the
 * subscriber may not see), after a first `subscribed` message, until `signal` aborts. LISTEN/NOTIFY through
 * `db.events`: events committed by every API process on the database arrive. Should the process's event
 * connection drop, the stream ends with SERVICE_UNAVAILABLE (events may have been missed): the subscriber
 * subscribes again and re-reads what it shows. Each stream counts against its owner's limit of open streams
 * (`ctx.streams`) until it ends; one over the limit ends at once with TOO_MANY_REQUESTS.
 */
export async function* eventStream<Event>(
  ctx: { db: Database; streams: OpenStreams; streamOwner: string },
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
      yield { type: 'subscribed' };
      for await (const [event] of received) yield event as Event;
    } finally {
      await unlisten();
    }
  } finally {
    close();
  }
}
