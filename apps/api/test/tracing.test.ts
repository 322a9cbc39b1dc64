import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { domainModules } from '@huddle/composition';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutValues } from '../src/sql-text.ts';
import { tracingRequested } from '../src/tracing.ts';
import { killApiProcesses, startApiProcess, TEST_SECRET_TEXT } from './helpers.ts';

const database = useTestDatabase(domainModules);

/** An OTLP attribute value as OTLP/JSON writes it. */
interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  arrayValue?: { values: AnyValue[] };
}

/** A span as OTLP/JSON carries it (`ExportTraceServiceRequest.resourceSpans[].scopeSpans[].spans[]`). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: AnyValue }[];
}

function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes.find((entry) => entry.key === key)?.value;
  if (value?.arrayValue) return value.arrayValue.values.map((item) => item.stringValue);
  return value?.stringValue ?? value?.intValue;
}

/** An in-process OTLP/HTTP receiver (JSON, as `OTEL_EXPORTER_OTLP_PROTOCOL=http/json` sends it). */
function otlpReceiver() {
  const spans: OtlpSpan[] = [];
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        bodies.push(body);
        const request = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const resource of request.resourceSpans)
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, spans, bodies };
}

describe('OpenTelemetry traces of a spawned API process (PostgreSQL, OTEL_* set)', () => {
  const receiver = otlpReceiver();
  let endpoint: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await killApiProcesses();
    await new Promise((resolve) => receiver.server.close(resolve));
  });

  it('exports a request span with its procedure and request id, SQL child spans without values, and logs with its trace id', async () => {
    const api = await startApiProcess({
      DATABASE_URL: database.url,
      HUDDLE_SECRET: TEST_SECRET_TEXT,
      HUDDLE_LOG_LEVEL: 'info',
      HUDDLE_JOBS: 'off',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_SERVICE_NAME: 'huddle-test',
    });
    const name = 'Zed Tracemarker';
    const joined = await fetch(`${api.url}/poker.join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-1' },
      body: JSON.stringify({ name }),
    });
    expect(joined.status).toBe(200);
    // A query's input travels in its URL: the span keeps the procedure, never the input.
    const { result } = (await joined.json()) as { result: { data: { token: string } } };
    const input = encodeURIComponent(JSON.stringify({ limit: 7, cursor: 'Zed-cursor-marker' }));
    await fetch(`${api.url}/poker.sessions.mine?input=${input}`, {
      headers: { authorization: `Bearer ${result.data.token}`, 'x-request-id': 'trace-me-2' },
    });

    const requestSpan = (id: string) =>
      receiver.spans.find((span) => attribute(span, 'huddle.request_id') === id);
    await expect
      .poll(() => requestSpan('trace-me-1') && requestSpan('trace-me-2'), { timeout: 10_000 })
      .toBeTruthy();
    const join = requestSpan('trace-me-1')!;
    expect({ name: join.name, kind: join.kind, procedures: attribute(join, 'huddle.procedures') }).toEqual({
      name: 'POST poker.join',
      kind: 2,
      procedures: ['poker.join'],
    });
    expect(join.parentSpanId ?? '').toBe('');

    // Its SQL statements are its children, with their text and without the values MikroORM writes into it.
    const statements = () =>
      receiver.spans.filter(
        (span) => span.parentSpanId === join.spanId && attribute(span, 'db.query.text') !== undefined,
      );
    await expect.poll(() => statements().length, { timeout: 5_000 }).toBeGreaterThan(1);
    const texts = statements().map((span) => String(attribute(span, 'db.query.text')));
    expect(texts.some((text) => /insert into "poker"\."users"/i.test(text))).toBe(true);
    expect(statements().every((span) => span.traceId === join.traceId)).toBe(true);
    expect(statements().every((span) => attribute(span, 'db.system.name') === 'postgresql')).toBe(true);
    // No span anywhere holds the joining user's name, nor the query's input.
    const leaked = (text: string) => receiver.bodies.some((body) => body.includes(text));
    expect({ name: leaked('Tracemarker'), input: leaked('Zed-cursor-marker') }).toEqual({
      name: false,
      input: false,
    });
    expect(attribute(requestSpan('trace-me-2')!, 'huddle.procedures')).toEqual(['poker.sessions.mine']);

    // The request's log lines carry its trace id (the access line at least).
    const accessLine = api
      .output()
      .split('\n')
      .filter((line) => line.includes('"requestId":"trace-me-1"'))
      .map((line) => JSON.parse(line) as { trace_id?: string; msg: string })
      .find((line) => line.msg === 'request');
    expect(accessLine?.trace_id).toBe(join.traceId);
  });
});

describe('tracing is off unless OTEL_* asks for it', () => {
  it('reads the standard variables', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(
      true,
    );
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' })).toBe(
      false,
    );
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' })).toBe(
      false,
    );
  });
});

describe('a statement text without its values', () => {
  it('replaces literals, keeps names, parameters and comments', () => {
    expect(
      withoutValues(
        `select "u"."id", t1.x from "poker"."users" as "u" where "u"."name" = 'O''Brien' and "u"."id" in (3, 42.5, 1e-3) and x = $1 and y = E'a\\'b' and z = $tag$it's$tag$ -- note 7`,
      ),
    ).toBe(
      `select "u"."id", t1.x from "poker"."users" as "u" where "u"."name" = ? and "u"."id" in (?, ?, ?) and x = $1 and y = ? and z = ? -- note 7`,
    );
    expect(withoutValues(`insert into "a b" ("x") values ('unterminated`)).toBe(
      `insert into "a b" ("x") values (?`,
    );
  });
});
