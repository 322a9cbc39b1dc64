import { migrationStatus } from '@huddle/db';
import { publicProcedure } from '../trpc.ts';

/** Is the database reachable, and which migrations has each module applied and still pending? */
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
  return {
    status: reachable && upToDate ? ('ok' as const) : ('degraded' as const),
    database: { kind: ctx.db.target.kind, reachable, latencyMs },
    modules,
  };
});
