import { ConfigurationError } from '@huddle/db';
import { z } from 'zod';

/**
 * Open event streams (subscriptions over SSE) per actor, counted per API process across every subscription
 * procedure: each stream holds a connection, a listener and buffers (about 100 kB), so one token must not
 * open them without end. Counted per process, where the memory is; a balancer spreads a client's streams.
 */

export const DEFAULT_MAX_STREAMS_PER_ACTOR = 16;
export const MAX_STREAMS_VARIABLE = 'HUDDLE_MAX_STREAMS_PER_ACTOR';

/** Thrown when an actor opens one stream more than the limit; the API answers TOO_MANY_REQUESTS. */
export class TooManyStreamsError extends Error {
  constructor(limit: number) {
    super(
      `subscriptions: at most ${limit} open event streams per actor (${MAX_STREAMS_VARIABLE}); close one before opening another`,
    );
    this.name = 'TooManyStreamsError';
  }
}

export class OpenStreams {
  private readonly byOwner = new Map<string, number>();
  private total = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Counts a stream of `owner` and returns what ends it; throws TooManyStreamsError at the limit. */
  open(owner: string): () => void {
    const open = this.byOwner.get(owner) ?? 0;
    if (open >= this.limit) throw new TooManyStreamsError(this.limit);
    this.byOwner.set(owner, open + 1);
    this.total += 1;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.total -= 1;
      const left = (this.byOwner.get(owner) ?? 1) - 1;
      if (left === 0) this.byOwner.delete(owner);
      else this.byOwner.set(owner, left);
    };
  }

  /** Streams open now, every actor's (the metrics' `huddle_event_streams_open`). */
  get count(): number {
    return this.total;
  }
}

const envSchema = z.object({
  [MAX_STREAMS_VARIABLE]: z.coerce
    .number()
    .int()
    .min(1, 'must be a positive integer')
    .max(10_000)
    .default(DEFAULT_MAX_STREAMS_PER_ACTOR),
});

/** `HUDDLE_MAX_STREAMS_PER_ACTOR` (default 16). */
export function maxStreamsPerActorFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data[MAX_STREAMS_VARIABLE];
}
