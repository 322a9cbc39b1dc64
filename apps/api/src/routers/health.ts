import { type Database, migrationStatus } from '@huddle/db';
import { publicProcedure } from '../trpc.ts';

/**
 * Can this process serve: is the database reachable, which migrations has each module applied and still
 * pending, and is the process draining (shutting down)? `ok` only when it can serve; otherwise the route
 * answers HTTP 503, so a load balancer stops sending it requests.
 */
export async function checkHealth(db: Database, draining: boolean) {
  const started = performance.now();
  let reachable = true;
  try {
    await db.orm.em.fork().execute('select 1');
  } catch {
    reachable = false;
  }
  const latencyMs = Math.round((performance.now() - started) * 100) / 100;
  // The database may go away between the two: then it is unreachable after all.
  const modules = reachable ? await migrationStatus(db).catch(() => undefined) : undefined;
  const upToDate = modules?.every((module) => module.pending.length === 0) ?? false;
  return {
    status: draining ? ('draining' as const) : upToDate ? ('ok' as const) : ('degraded' as const),
    database: { kind: db.target.kind, reachable: modules !== undefined, latencyMs },
    modules: modules ?? [],
  };
}

/**
 * The health route: HTTP 503 unless the process can serve. Only an operator (the `HUDDLE_OPS_TOKEN` bearer)
 * is told the details — the database's kind and latency, and which migrations each module has applied and
 * still pending — which map the deployment for anyone else.
 */
export const health = publicProcedure.query(async ({ ctx }) => {
  const report = await checkHealth(ctx.db, ctx.draining);
  if (report.status !== 'ok') ctx.response.status = 503;
  return ctx.operator ? report : { status: report.status };
});
