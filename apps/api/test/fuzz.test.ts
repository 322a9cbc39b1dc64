import { domainModules } from '@huddle/composition';
import { seed } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/router.ts';
import {
  createFuzzFixtures,
  type FuzzFixtures,
  type FuzzServer,
  routerProcedures,
  runFuzz,
  startFuzzServer,
} from '../src/testing/fuzz.ts';
import { TEST_SECRET } from './helpers.ts';

/**
 * Cases per procedure in `pnpm test`: bounded for the CI budget and seeded (reproducible); `pnpm bench fuzz`
 * runs 10,000+ cases per backend and fails when a procedure never accepted a call.
 */
const CASES_PER_PROCEDURE = Number(process.env.HUDDLE_FUZZ_CASES ?? 10);
const SEED = Number(process.env.HUDDLE_FUZZ_SEED ?? 20_261_122);

const database = useTestDatabase(domainModules);
let fuzz: FuzzServer;
let fixtures: FuzzFixtures;
beforeAll(async () => {
  await seed(database.db, 'minimal');
  fixtures = await createFuzzFixtures(database.db);
  fuzz = await startFuzzServer(database.db, TEST_SECRET, fixtures);
});
afterAll(async () => {
  await fuzz?.server.close();
  await fixtures?.remove();
});

describe('fuzzing every procedure of the AppRouter over HTTP (PostgreSQL)', () => {
  it('walks the router itself: every procedure of every composed module, with its input schema', () => {
    const found = routerProcedures().map((procedure) => procedure.path);
    expect(found).toEqual(Object.keys(appRouter._def.procedures).sort((a, b) => a.localeCompare(b)));
    expect(found).toEqual(
      expect.arrayContaining(['health', 'poker.join', 'poker.votes.cast', 'poker.events']),
    );
  });

  it(`${CASES_PER_PROCEDURE} cases each: no server error, a rejected call changes nothing, the server keeps answering`, async () => {
    const report = await runFuzz({
      url: fuzz.server.url,
      db: database.db,
      secret: TEST_SECRET,
      casesPerProcedure: CASES_PER_PROCEDURE,
      seed: SEED,
      fixtures: fixtures.values,
      examples: fixtures.examples,
      subjects: fixtures.subjects,
      usedUpWhenRefused: fixtures.usedUpWhenRefused,
      refresh: fixtures.refresh,
    });
    expect(report.failures).toEqual([]);
    expect(report.cases).toBe(CASES_PER_PROCEDURE * routerProcedures().length);
    expect(fuzz.warnings().filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
    // Some calls of every input-taking kind get through validation: the harness reaches the services.
    expect([...report.outcomes.keys()]).toEqual(
      expect.arrayContaining(['200', '400 BAD_REQUEST', '401 UNAUTHORIZED']),
    );
    // Every procedure the fixtures give an example accepted a call (runFuzz sends each its newest example
    // once per generation): an example a changed rule or a used-up row no longer lets through fails here.
    const unreached = Object.keys(fixtures.examples).filter((path) => !report.accepted.get(path));
    expect(unreached).toEqual([]);
    expect(report.accepted.get('poker.join')).toBeGreaterThan(0);
    expect(report.accepted.get('scrum.tasks.mine')).toBeGreaterThan(0);
    expect(report.accepted.get('scrum.tasks.history')).toBeGreaterThan(0);
    // The platform's sessions and keys are reached with accepted calls too (a token of the module they name);
    // the revocations need another row's unguessable id and the right admin, which sessions.test.ts covers.
    const auth = [...report.accepted].filter(
      ([path]) => path.startsWith('auth.') && !path.endsWith('.revoke') && !path.endsWith('.revokeUser'),
    );
    expect(auth.filter(([, accepted]) => accepted === 0)).toEqual([]);
    // 10 cases for each of the ~120 procedures: about 10 s alone; the timeout leaves room for far more
    // under the full pnpm test on 2 cores.
  }, 240_000);
});
