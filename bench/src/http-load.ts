import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/** Throughput and latency of one side of a comparison. */
export interface LoadFigures {
  calls: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** This process's CPU time (user + system) per call, in ms: the API's, or the raw `pg` client's. */
  cpuPerCall: number;
}

/** One client's calls: the same URL, method and token each time, cycling through `bodies` (none for a GET). */
export interface HttpClientPlan {
  url: string;
  method: 'GET' | 'POST';
  token: string;
  bodies?: string[];
}

interface HttpLoadPlan {
  durationMs: number;
  clients: HttpClientPlan[];
}

/** Runs `call` from `clients` concurrent loops for `durationMs`; throughput and latency percentiles. */
export async function load(
  durationMs: number,
  clients: number,
  call: (client: number, iteration: number) => Promise<void>,
): Promise<LoadFigures> {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let iteration = 0; performance.now() < deadline; iteration++) {
        const begun = performance.now();
        await call(client, iteration);
        latencies.push(performance.now() - begun);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (quantile: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * quantile))]!;
  return {
    calls: latencies.length,
    perSecond: (latencies.length * 1000) / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    cpuPerCall: (user + system) / 1000 / latencies.length,
  };
}

/**
 * Runs HTTP clients against the API with autocannon (keep-alive connections, a lean HTTP client) from a
 * child process, so the load generator's work does not run on the API's event loop: the API is measured
 * as a server, the way its callers reach it.
 */
export function loadOverHttp(plan: HttpLoadPlan): Promise<LoadFigures> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), { stdio: 'inherit' });
    const cpu = process.cpuUsage();
    child.once('message', (message: { figures?: Omit<LoadFigures, 'cpuPerCall'>; error?: string }) => {
      const { user, system } = process.cpuUsage(cpu);
      if (message.figures)
        resolve({ ...message.figures, cpuPerCall: (user + system) / 1000 / message.figures.calls });
      else reject(new Error(`the HTTP load generator failed: ${message.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the HTTP load generator exited with ${code}`)));
    child.send(plan);
  });
}

/** autocannon's connections, each with its own token, each cycling through its bodies (or one GET). */
async function runPlan({ durationMs, clients }: HttpLoadPlan): Promise<Omit<LoadFigures, 'cpuPerCall'>> {
  let nextClient = 0;
  const result = await autocannon({
    url: new URL(clients[0]!.url).origin,
    connections: clients.length,
    duration: durationMs / 1000,
    setupClient(client) {
      const { url, method, token, bodies } = clients[nextClient++ % clients.length]!;
      const { pathname, search } = new URL(url);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      client.setRequests(
        (bodies ?? [undefined]).map((body) => ({ method, path: pathname + search, headers, body })),
      );
    },
  });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return {
    calls: result.requests.total,
    perSecond: result.requests.total / (durationMs / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

// Forked by loadOverHttp: runs the plan it is sent, answers with the figures, exits.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', async (plan: HttpLoadPlan) => {
    const message = await runPlan(plan).then(
      (figures) => ({ figures }),
      (error: unknown) => ({ error: String(error) }),
    );
    process.send!(message, () => process.exit(0));
  });
}
