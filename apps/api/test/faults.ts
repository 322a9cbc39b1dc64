import { expect } from 'vitest';
import type { ApiProcess } from './helpers.ts';

/** pino's level of error lines. */
const ERROR_LEVEL = 50;

/** The process's JSON log lines at error level or above (complete lines only). */
export function errorLines(output: string): string[] {
  return output
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{') && (JSON.parse(line) as { level: number }).level >= ERROR_LEVEL);
}

interface CallAnswer {
  ok: boolean;
  /** `CODE status retry-after header`, for a refused call; how a fetch failed, when it did. */
  failure?: string;
  data?: unknown;
}

/** How often, and how far apart, `writeSoon` tries: about a second in all. */
const WRITE_ATTEMPTS = 20;
const WRITE_INTERVAL_MS = 50;

/** Plain HTTP calls to one API process as one poker user, so a test sees status codes and headers. */
export function apiWriter(api: Pick<ApiProcess, 'url'>) {
  let token: string | undefined;
  let joined = 0;
  async function call(path: string, input: unknown): Promise<CallAnswer> {
    try {
      const response = await fetch(`${api.url}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(input),
      });
      const body = (await response.json()) as {
        result?: { data: unknown };
        error?: { data: { code: string } };
      };
      if (response.ok) return { ok: true, data: body.result!.data };
      return {
        ok: false,
        failure: `${body.error?.data.code} ${response.status} retry-after ${response.headers.get('retry-after')}`,
      };
    } catch (error) {
      return { ok: false, failure: `fetch failed: ${String((error as Error).cause ?? error)}` };
    }
  }
  /** A sign-in is a write (a new poker user); the first one's token is the writer's from then on. */
  async function join(name: string): Promise<CallAnswer> {
    const answer = await call('poker.join', { name });
    if (answer.ok) token ??= (answer.data as { token: string }).token;
    return answer;
  }
  async function required(answer: Promise<CallAnswer>): Promise<unknown> {
    const settled = await answer;
    if (!settled.ok) throw new Error(`call failed: ${settled.failure}`);
    return settled.data;
  }
  return {
    token: () => token!,
    signIn: (name: string) => required(join(name)),
    /**
     * A write (a sign-in) tried up to ~1 s until it succeeds: the first attempts after the database is
     * back may meet a connection the process has not yet learned is gone. Returns how the failed ones failed.
     */
    async writeSoon(): Promise<{ written: boolean; failures: string[] }> {
      const failures: string[] = [];
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        const answer = await join(`Writer ${++joined}`);
        if (answer.ok) return { written: true, failures };
        failures.push(answer.failure!);
        await new Promise((resolve) => setTimeout(resolve, WRITE_INTERVAL_MS));
      }
      return { written: false, failures };
    },
    async session(name: string): Promise<number> {
      return ((await required(call('poker.sessions.create', { name }))) as { id: number }).id;
    },
    async story(sessionId: number, title: string): Promise<void> {
      await required(call('poker.stories.add', { sessionId, title }));
    },
  };
}

export type ApiWriter = ReturnType<typeof apiWriter>;

/**
 * `poker.events` of `sessionId` as raw Server-Sent Events: resolves once subscribed; `ended` resolves with
 * everything received when the stream ends (cleanly or not).
 */
export async function subscribeRaw(url: string, token: string, sessionId: number) {
  const input = encodeURIComponent(JSON.stringify({ sessionId }));
  const abort = new AbortController();
  const stream = await fetch(`${url}/poker.events?input=${input}`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    signal: abort.signal,
  });
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = '';
  while (!received.includes('"subscribed"')) {
    const { done, value } = await reader.read();
    if (done)
      throw new Error(`the subscription ended before it was subscribed: ${stream.status} ${received}`);
    received += value;
  }
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return received;
      received += value;
    }
  })().catch(() => received);
  return { ended, received: () => received, stop: () => abort.abort() };
}

/**
 * The process is up and a write succeeds within about a second (`writeSoon`); the attempts before it, if
 * any, were 503s with Retry-After, never a 500; and the process logged nothing at error level.
 */
export async function expectServing(api: ApiProcess, writer: ApiWriter): Promise<void> {
  const outcome = await writer.writeSoon();
  expect(outcome.failures.filter((failure) => failure !== 'SERVICE_UNAVAILABLE 503 retry-after 1')).toEqual(
    [],
  );
  expect(outcome.written).toBe(true);
  expect(api.child.exitCode).toBeNull();
  expect(errorLines(api.output())).toEqual([]);
}
