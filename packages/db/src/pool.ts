import type { PostgreSqlConnection } from '@mikro-orm/postgresql';
import type { Database } from './database.ts';

/**
 * How busy the runtime ORM's connections are (the primary's; read replicas have pools of their own), for
 * an operator's metrics. On PostgreSQL, the `pg` pool's connections in use, idle and the requests waiting
 * for one. The embedded database has one connection that every transaction takes in turn, and PGlite does
 * not expose who holds it: only its size.
 */
export type PoolUsage =
  | { kind: 'postgresql'; max: number; inUse: number; idle: number; waiting: number }
  | { kind: 'pglite'; max: 1 };

export async function poolUsage(db: Pick<Database, 'orm' | 'target'>): Promise<PoolUsage> {
  if (db.target.kind === 'pglite') return { kind: 'pglite', max: 1 };
  // The PostgreSQL driver's connection (database.ts opens the runtime ORM with it).
  const connection = db.orm.driver.getConnection('write') as PostgreSqlConnection;
  const pool = await connection.getNativeClient();
  return {
    kind: 'postgresql',
    max: db.target.poolMax,
    inUse: pool.totalCount - pool.idleCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
  };
}
