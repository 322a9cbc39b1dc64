import type { PGlite } from '@electric-sql/pglite';
import type { EntityManager } from '@mikro-orm/sql';
import pg from 'pg';

/**
 * Cross-process events over PostgreSQL LISTEN/NOTIFY. `publish` runs inside the caller's transaction, so an
 * event is delivered exactly when (and only if) the change it describes commits, to every process listening
 * on the same database: several API processes behind a load balancer see the same events.
 */
export async function publish(em: EntityManager, channel: string, payload: unknown): Promise<void> {
  await em.execute('select pg_notify(?, ?)', [channel, JSON.stringify(payload)]);
}

export type Unlisten = () => Promise<void>;
type Handler = (payload: unknown) => void;

/** Subscribes to channels on one dedicated connection (PostgreSQL) or on the embedded PGlite instance. */
export interface EventListener {
  listen(channel: string, handler: Handler): Promise<Unlisten>;
  close(): Promise<void>;
}

function parse(payload: string | undefined): unknown {
  return payload === undefined || payload === '' ? undefined : JSON.parse(payload);
}

function quoteChannel(channel: string): string {
  return `"${channel.replaceAll('"', '""')}"`;
}

/** LISTEN on a dedicated `pg` client shared by every subscription of this process. */
export function postgresEventListener(url: string): EventListener {
  const handlers = new Map<string, Set<Handler>>();
  let client: Promise<pg.Client> | undefined;
  const connect = () => {
    client ??= (async () => {
      const connection = new pg.Client({ connectionString: url });
      connection.on('notification', (message) => {
        for (const handler of handlers.get(message.channel) ?? []) handler(parse(message.payload));
      });
      // A dropped listener connection must not crash the process; subscribers simply stop receiving.
      connection.on('error', () => undefined);
      await connection.connect();
      return connection;
    })();
    return client;
  };
  return {
    async listen(channel, handler) {
      const connection = await connect();
      let channelHandlers = handlers.get(channel);
      if (!channelHandlers) {
        channelHandlers = new Set();
        handlers.set(channel, channelHandlers);
        await connection.query(`listen ${quoteChannel(channel)}`);
      }
      channelHandlers.add(handler);
      return async () => {
        channelHandlers.delete(handler);
        if (channelHandlers.size === 0 && handlers.get(channel) === channelHandlers) {
          handlers.delete(channel);
          await connection.query(`unlisten ${quoteChannel(channel)}`).catch(() => undefined);
        }
      };
    },
    async close() {
      const connection = client;
      client = undefined;
      handlers.clear();
      if (connection) await (await connection).end().catch(() => undefined);
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
