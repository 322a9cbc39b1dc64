import type { PGlite } from '@electric-sql/pglite';
import type { EntityManager } from '@mikro-orm/sql';
import pg from 'pg';
import { DatabaseUnavailableError } from './errors.ts';

/**
 * Cross-process events over PostgreSQL LISTEN/NOTIFY. `publish` runs inside the caller's transaction (after flushing its pending changes), so an
 * event is delivered exactly when (and only if) the change it describes commits, to every process listening
 * on the same database: several API processes behind a load balancer see the same events.
 */
export async function publish(em: EntityManager, channel: string, payload: unknown): Promise<void> {
  // Flushed first: an event never precedes a pending write that could still fail.
  await em.flush();
  await em.execute('select pg_notify(?, ?)', [channel, JSON.stringify(payload)]);
}

export type Unlisten = () => Promise<void>;
type Handler = (payload: unknown) => void;
/** Called once when a subscription ends because its connection was lost: events may have been missed since. */
type LostHandler = (error: DatabaseUnavailableError) => void;

/**
 * Subscribes to channels on one dedicated connection (PostgreSQL) or on the embedded PGlite instance.
 * Whatever outlives a connection (a client's subscription) passes `onLost`; without it a lost connection
 * ends the subscription unannounced, which only a caller done within moments (a test) can afford.
 */
export interface EventListener {
  listen(channel: string, handler: Handler, onLost?: LostHandler): Promise<Unlisten>;
  close(): Promise<void>;
}

function parse(payload: string | undefined): unknown {
  return payload === undefined || payload === '' ? undefined : JSON.parse(payload);
}

function quoteChannel(channel: string): string {
  return `"${channel.replaceAll('"', '""')}"`;
}

/**
 * LISTEN on a dedicated `pg` client shared by every subscription of this process. Should that connection
 * drop (a server restart, a terminated backend), every subscription on it ends with `onLost` rather than
 * going quiet (the events committed meanwhile are gone: its subscriber resubscribes and reads the state
 * again), and the next `listen` connects afresh.
 */
export function postgresEventListener(url: string): EventListener {
  const subscriptions = new Map<string, Map<Handler, LostHandler | undefined>>();
  let client: Promise<pg.Client> | undefined;
  const lose = (connection: pg.Client, cause: Error | undefined) => {
    // Once per connection ('error' is followed by 'end'), and not for `close()`, which detaches it first.
    if (connection.listenerCount('notification') === 0) return;
    connection.removeAllListeners('notification');
    client = undefined;
    const lost = [...subscriptions.values()].flatMap((handlers) => [...handlers.values()]);
    subscriptions.clear();
    const error = new DatabaseUnavailableError(
      'the event connection was lost: subscribe again',
      {},
      { cause },
    );
    for (const onLost of lost) onLost?.(error);
  };
  const connect = () => {
    client ??= (async () => {
      const connection = new pg.Client({ connectionString: url, application_name: 'huddle-events' });
      connection.on('notification', (message) => {
        for (const handler of subscriptions.get(message.channel)?.keys() ?? [])
          handler(parse(message.payload));
      });
      connection.on('error', (error) => lose(connection, error));
      connection.on('end', () => lose(connection, undefined));
      try {
        await connection.connect();
      } catch (error) {
        client = undefined;
        throw error;
      }
      return connection;
    })();
    return client;
  };
  return {
    async listen(channel, handler, onLost) {
      const connection = await connect();
      let handlers = subscriptions.get(channel);
      if (!handlers) {
        handlers = new Map();
        subscriptions.set(channel, handlers);
        await connection.query(`listen ${quoteChannel(channel)}`);
      }
      handlers.set(handler, onLost);
      const channelHandlers = handlers;
      return async () => {
        channelHandlers.delete(handler);
        if (channelHandlers.size === 0 && subscriptions.get(channel) === channelHandlers) {
          subscriptions.delete(channel);
          await connection.query(`unlisten ${quoteChannel(channel)}`).catch(() => undefined);
        }
      };
    },
    async close() {
      const connection = client;
      client = undefined;
      subscriptions.clear();
      if (!connection) return;
      const opened = await connection.catch(() => undefined);
      opened?.removeAllListeners('notification');
      await opened?.end().catch(() => undefined);
    },
  };
}

/** PGlite delivers NOTIFY to listeners on the same instance, which is the whole embedded database. */
export function pgliteEventListener(pglite: PGlite): EventListener {
  const unlisteners = new Set<() => Promise<void>>();
  return {
    async listen(channel, handler) {
      const unlisten = await pglite.listen(channel, (payload) => handler(parse(payload)));
      unlisteners.add(unlisten);
      return async () => {
        unlisteners.delete(unlisten);
        await unlisten();
      };
    },
    async close() {
      await Promise.all([...unlisteners].map((unlisten) => unlisten().catch(() => undefined)));
      unlisteners.clear();
    },
  };
}
