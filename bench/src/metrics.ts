import { ApiMetrics } from '@huddle/api/metrics';

const CALLS = 200_000;
/** Rounds per case; each case reports its median round (the machine's noise is large). */
const ROUNDS = 5;

/** Median CPU microseconds per call of `work`, over ROUNDS rounds of CALLS calls after one warm-up round. */
function cpuMicrosecondsPerCall(work: (call: number) => void): number {
  const round = () => {
    const before = process.cpuUsage();
    for (let call = 0; call < CALLS; call += 1) work(call);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / CALLS;
  };
  round();
  const rounds = Array.from({ length: ROUNDS }, round).sort((a, b) => a - b);
  return rounds[Math.floor(ROUNDS / 2)]!;
}

/**
 * `pnpm bench metrics`: what recording a request's metrics adds to the request path (ApiMetrics.recordRequest,
 * which the server calls once per request when HUDDLE_METRICS is on), in CPU per request — to set beside
 * the API's CPU per call in `pnpm bench api` — and what one scrape costs once every procedure has series.
 * In-process and without a database: the request path's own figures move far more with the machine's load
 * than this does.
 */
export async function benchMetrics(): Promise<string[]> {
  const metrics = new ApiMetrics('public');
  const procedures = [
    'poker.votes.cast',
    'poker.sessions.get',
    'scrum.tasks.mine',
    'decisions.decisions.list',
  ];
  const single = cpuMicrosecondsPerCall((call) =>
    metrics.recordRequest([procedures[call % procedures.length]!], [], true, 0.012),
  );
  const refused = [{ code: 'UNAUTHORIZED', path: 'poker.me' }];
  const batch = cpuMicrosecondsPerCall(() =>
    metrics.recordRequest(['poker.me', 'health'], refused, true, 0.004),
  );
  const unknown = cpuMicrosecondsPerCall((call) =>
    metrics.recordRequest(
      [`no.such.procedure.${call % 1000}`],
      [{ code: 'NOT_FOUND', path: 'x' }],
      true,
      0.001,
    ),
  );
  const started = performance.now();
  const scrapes = 50;
  let bytes = 0;
  for (let scrape = 0; scrape < scrapes; scrape += 1) bytes = (await metrics.exposition()).length;
  const scrapeMs = (performance.now() - started) / scrapes;
  const format = (value: number) => `${value.toFixed(2)} µs`;
  return [
    `huddle bench metrics, node ${process.version}: CPU per request recorded (median of ${ROUNDS} rounds of ${CALLS.toLocaleString('en-US')})`,
    `  one call, OK                       ${format(single)}`,
    `  a batch of two, one refused        ${format(batch)}`,
    `  a path naming no procedure         ${format(unknown)}`,
    `  one scrape (${(bytes / 1024).toFixed(0)} KiB of text)          ${scrapeMs.toFixed(2)} ms`,
  ];
}
