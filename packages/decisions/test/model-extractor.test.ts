import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationError } from '@huddle/db';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ruleBasedExtractor } from '../src/extraction/extractor.ts';
import { modelExtractor } from '../src/extraction/model-extractor.ts';
import { decisionsResourcesFromEnv } from '../src/resources.ts';

/** A fake OpenAI-compatible server: what it was asked, and how it answers next. */
let server: Server;
let url: string;
let requests: { method?: string; path?: string; authorization?: string; body: Record<string, unknown> }[];
let answer: (response: ServerResponse) => void;

const completion = (content: string) =>
  JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] });
const answerWith = (status: number, body: string) => (response: ServerResponse) => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(body);
};

beforeAll(async () => {
  server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    requests.push({
      method: request.method,
      path: request.url,
      authorization: request.headers.authorization,
      body: JSON.parse(body),
    });
    answer(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  requests = [];
});

const MEETING = {
  title: 'Architecture sync',
  content: 'Bob: Agreed. We will adopt Kafka for the event bus.',
  participants: [],
};
const RULE_BASED = await ruleBasedExtractor.extract(MEETING);

describe('the chat-completions extractor', () => {
  it('asks the server in the OpenAI-compatible protocol and proposes what the model lists', async () => {
    answer = answerWith(
      200,
      completion(
        '```json\n{"decisions": [{"title": "Adopt Kafka for the event bus", "statement": "We will adopt Kafka.", "rationale": "Replay", "confidence": 0.876, "for": ["Bob"]}]}\n```',
      ),
    );
    const extractor = modelExtractor({ url, model: 'small-model', apiKey: 'sk-test' });
    expect(extractor.name).toBe('chat-completions:small-model');
    expect(await extractor.extract(MEETING)).toEqual([
      {
        title: 'Adopt Kafka for the event bus',
        statement: 'We will adopt Kafka.',
        rationale: 'Replay',
        confidence: 0.88,
        consensus: { for: ['Bob'], against: [], abstain: [] },
      },
    ]);
    const [request] = requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      authorization: 'Bearer sk-test',
      body: { model: 'small-model', temperature: 0, response_format: { type: 'json_object' } },
    });
    const messages = request!.body.messages as { role: string; content: string }[];
    expect(messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(messages[1]!.content).toContain(MEETING.content);
  });

  it('cuts what the model says to what a decision holds, and sends no key when it has none', async () => {
    answer = answerWith(
      200,
      completion(JSON.stringify({ decisions: [{ title: 'x'.repeat(500), statement: 'y'.repeat(30_000) }] })),
    );
    const [decision] = await modelExtractor({ url, model: 'm' }).extract(MEETING);
    expect([decision?.title.length, decision?.statement.length, decision?.confidence]).toEqual([
      300, 20_000, 0.6,
    ]);
    expect(requests[0]?.authorization).toBeUndefined();
  });

  it.each([
    ['a non-200 answer', answerWith(503, '{"error": "overloaded"}'), 'the server answered 503'],
    ['an answer that is not JSON', answerWith(200, '<html>'), 'the answer is not JSON'],
    [
      'JSON that is not a chat completion',
      answerWith(200, '{"id": 1}'),
      'the answer is not a chat completion',
    ],
    [
      'a message that is not JSON',
      answerWith(200, completion('Sure! Kafka.')),
      "the model's message is not JSON",
    ],
    [
      'a message without decisions',
      answerWith(200, completion('{"decisions": [{"title": ""}]}')),
      "the model's message does not list decisions",
    ],
    [
      'text the database cannot hold',
      answerWith(200, completion(JSON.stringify({ decisions: [{ title: 'a\u0000b', statement: 's' }] }))),
      "the model's message does not list decisions",
    ],
    [
      'an answer larger than 1 MiB',
      answerWith(200, completion('x'.repeat(1024 * 1024 + 1))),
      'the answer is larger than 1048576 bytes',
    ],
    // The one case with a short timeout: the server never answers (the others answer at once).
    ['no answer in time', () => undefined, 'no answer within 100 ms'],
  ])('falls back to the rule-based extractor on %s, saying why', async (_case, respond, reason) => {
    answer = respond;
    const reasons: string[] = [];
    const extractor = modelExtractor({
      url,
      model: 'm',
      timeoutMs: reason.startsWith('no answer') ? 100 : 60_000,
      onFallback: (why) => reasons.push(why),
    });
    expect(await extractor.extract(MEETING)).toEqual(RULE_BASED);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain(reason);
  });

  it('falls back when the server cannot be reached', async () => {
    const reasons: string[] = [];
    const extractor = modelExtractor({
      url: 'http://127.0.0.1:1/v1',
      model: 'm',
      onFallback: (why) => reasons.push(why),
    });
    expect(await extractor.extract(MEETING)).toEqual(RULE_BASED);
    expect(reasons[0]).toMatch(/^http:\/\/127\.0\.0\.1:1\/v1\/chat\/completions: fetch failed/);
  });
});

describe('the decisions resources from the environment', () => {
  it('extract by rules unless a model server is configured (off by default)', async () => {
    expect(decisionsResourcesFromEnv({}).extractor).toBe(ruleBasedExtractor);
    const configured = decisionsResourcesFromEnv({
      HUDDLE_DECISIONS_EXTRACTOR_URL: url,
      HUDDLE_DECISIONS_EXTRACTOR_MODEL: 'env-model',
      HUDDLE_DECISIONS_EXTRACTOR_KEY: 'sk-env',
      HUDDLE_DECISIONS_EXTRACTOR_TIMEOUT_MS: '5000',
    });
    expect(configured.extractor.name).toBe('chat-completions:env-model');
    answer = answerWith(200, completion('{"decisions": []}'));
    expect(await configured.extractor.extract(MEETING)).toEqual([]);
    expect(requests[0]).toMatchObject({ authorization: 'Bearer sk-env', body: { model: 'env-model' } });
  });

  it('refuse a configuration that cannot work, naming the variable', () => {
    const refusal = (env: NodeJS.ProcessEnv) => {
      try {
        decisionsResourcesFromEnv(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal({ HUDDLE_DECISIONS_EXTRACTOR_URL: url })).toMatch(
      /^HUDDLE_DECISIONS_EXTRACTOR_MODEL: required/,
    );
    expect(
      refusal({ HUDDLE_DECISIONS_EXTRACTOR_URL: 'ftp://x', HUDDLE_DECISIONS_EXTRACTOR_MODEL: 'm' }),
    ).toMatch(/^HUDDLE_DECISIONS_EXTRACTOR_URL: must be an http\(s\) URL/);
    expect(
      refusal({
        HUDDLE_DECISIONS_EXTRACTOR_URL: url,
        HUDDLE_DECISIONS_EXTRACTOR_MODEL: 'm',
        HUDDLE_DECISIONS_EXTRACTOR_TIMEOUT_MS: 'soon',
      }),
    ).toMatch(/^HUDDLE_DECISIONS_EXTRACTOR_TIMEOUT_MS: must be a positive whole number/);
  });
});
