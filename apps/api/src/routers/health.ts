import { migrationStatus } from '@huddle/db';
import { publicProcedure } from '../trpc.ts';

/**
 * Is the API well: `ok`, or `degraded` when the database is unreachable or migrations are pending. Only an
 * operator (the `HUDDLE_OPS_TOKEN` bearer) is told the details — the database's kind and latency, and which
 * migrations each module has applied and still pending — which map the deployment for anyone else.
 */
export const health = publicProcedure.query(async ({ ctx }) => {
  const started = performance.now();
  let reachable = true;
  try {
    await ctx.db.orm.em.fork().execute('select 1');
  } catch {
    reachable = false;
  }
  const latencyMs = Math.round((performance.now() - started) * 100) / 100;
  const modules = reachable ? await migrationStatus(ctx.db) : [];
  const upToDate = modules.every((module) => module.pending.length === 0);
  const status = reachable && upToDate ? ('ok' as const) : ('degraded' as const);
  if (!ctx.operator) return { status };
  return { status, database: { kind: ctx.db.target.kind, reachable, latencyMs }, modules };
});
