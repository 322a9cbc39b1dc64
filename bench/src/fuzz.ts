import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFuzzFixtures, routerProcedures, runFuzz, startFuzzServer } from '@huddle/api/testing';
import { domainModules } from '@huddle/composition';
import { type Database, migrateUp, openDatabase, seed } from '@huddle/db';
import { acquireTestServer } from '@huddle/testing';
import { count, migratedDatabase, seconds, timed } from './server.ts';

/**
 * `pnpm bench fuzz [cases]`: the fuzz harness of `apps/api/test/fuzz.test.ts`, at least `cases` (default
 * 10,000) over every procedure of the AppRouter, on the embedded database and on a throwaway PostgreSQL
 * (acquireTestServer), each seeded with the minimal sample data and the harness's fixtures (real ids of every
 * module, planner work trees under a root). Prints the counts per outcome and, per procedure, the calls
 * accepted and rejected; exits 1 if any case failed (a server error, a rejected call that changed a table,
 * /health not answering) or a procedure never accepted a call.
 */
export async function benchFuzz(args: string[]): Promise<number> {
  const cases = Number(args[0] ?? process.env.BENCH_FUZZ_CASES ?? 10_000);
  const fuzzSeed = Number(process.env.BENCH_FUZZ_SEED ?? 1);
  if (!Number.isSafeInteger(cases) || cases < 1)
    throw new Error(`cases: must be a positive integer, got ${args[0]}`);
  const procedures = routerProcedures();
  const casesPerProcedure = Math.ceil(cases / procedures.length);
  console.log(
    `huddle fuzz: ${count(casesPerProcedure * procedures.length)} cases per backend over ${procedures.length} procedures (${casesPerProcedure} each), seed ${fuzzSeed}, node ${process.version}`,
  );
  let failed = 0;

  const fuzz = async (label: string, db: Database) => {
    await seed(db, 'minimal');
    const fixtures = await createFuzzFixtures(db);
    const secret = randomBytes(48);
    const { server, warnings } = await startFuzzServer(db, secret, fixtures);
    try {
      const { result: report, milliseconds } = await timed(() =>
        runFuzz({
          url: server.url,
          db,
          secret,
          casesPerProcedure,
          seed: fuzzSeed,
          fixtures: fixtures.values,
          examples: fixtures.examples,
          subjects: fixtures.subjects,
          usedUpWhenRefused: fixtures.usedUpWhenRefused,
          refresh: fixtures.refresh,
        }),
      );
      const outcomes = [...report.outcomes].sort(([a], [b]) => a.localeCompare(b));
      const serverErrors = outcomes
        .filter(([outcome]) => /^5\d\d/.test(outcome) || outcome.includes('INTERNAL_SERVER_ERROR'))
        .reduce((sum, [, n]) => sum + n, 0);
      const reached = [...report.accepted].filter(([, n]) => n > 0).length;
      const errorLines = warnings().filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
      console.log(`${label}: ${count(report.cases)} cases in ${seconds(milliseconds)}`);
      for (const [outcome, n] of outcomes) console.log(`  ${outcome.padEnd(28)} ${count(n).padStart(7)}`);
      console.log(`  server errors (5xx, INTERNAL_SERVER_ERROR)  ${count(serverErrors)}`);
      console.log(`  failures (any kind)                         ${count(report.failures.length)}`);
      console.log(`  error-level log lines                       ${count(errorLines.length)}`);
      const never = [...report.accepted].filter(([, n]) => n === 0).map(([procedure]) => procedure);
      console.log(
        `  procedures that accepted some calls         ${reached} of ${procedures.length}${never.length > 0 ? ` (not: ${never.join(', ')})` : ''}`,
      );
      console.log(`  ${'procedure'.padEnd(44)} ${'accepted'.padStart(8)} ${'rejected'.padStart(8)}`);
      for (const [procedure, accepted] of report.accepted) {
        const rejected = report.rejected.get(procedure) ?? 0;
        console.log(
          `  ${procedure.padEnd(44)} ${count(accepted).padStart(8)} ${count(rejected).padStart(8)}`,
        );
      }
      for (const procedure of never) {
        const reasons = [...report.refusals.get(procedure)!].sort(([, a], [, b]) => b - a).slice(0, 3);
        for (const [reason, n] of reasons) console.log(`  REFUSED ${procedure} ×${n} ${reason}`);
      }
      for (const failure of report.failures.slice(0, 10))
        console.log(`  FAILED ${JSON.stringify(failure).slice(0, 500)}`);
      failed += report.failures.length + errorLines.length + never.length;
    } finally {
      await server.close();
      await fixtures.remove();
    }
  };

  const dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-fuzz-'));
  try {
    const db = await openDatabase({ modules: domainModules, target: { kind: 'pglite', dataDir } });
    try {
      await migrateUp(db);
      await fuzz('embedded PGlite', db);
    } finally {
      await db.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }

  const server = await acquireTestServer();
  try {
    const { db } = await migratedDatabase(server.url, 'huddle_fuzz', domainModules);
    try {
      await fuzz(`PostgreSQL (${server.source})`, db);
    } finally {
      await db.close();
    }
  } finally {
    await server.stop();
  }
  return failed === 0 ? 0 : 1;
}
