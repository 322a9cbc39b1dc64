import { domainModules, issueSessionToken } from '@huddle/composition';
import { type DomainModule, inRequestScope, seed } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/router.ts';
import type { ApiServer } from '../src/server.ts';
import { startTestServer, TEST_SECRET } from './helpers.ts';

const database = useTestDatabase(domainModules);
let server: ApiServer;
/** `/openapi.json` as served, with every `$ref` resolved (what a generic client works from). */
let document: Description;

/** The parts of an OpenAPI document this file's generic client reads. */
interface Description {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string; description: string }> };
}
interface Operation {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; content?: Record<string, unknown> }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content: Record<string, { schema: object }> }>;
}

const ajv = new Ajv2020({ allErrors: true, formats: fullFormats });

beforeAll(async () => {
  await seed(database.db, 'minimal', { module: 'decisions' });
  // A planner token names an operator with a row.
  await inRequestScope(database.db.orm, (em) =>
    em.execute(`insert into planner.operators (name) values ('ann')`),
  );
  server = await startTestServer(database.db);
});
afterAll(() => server?.close());

async function loadDocument() {
  const response = await fetch(`${server.url}/openapi.json`);
  expect(response.headers.get('content-type')).toBe('application/json');
  const validator = new Validator();
  const validation = await validator.validate((await response.json()) as Record<string, unknown>);
  expect(validation.errors).toBeUndefined();
  expect(validation.valid).toBe(true);
  document = validator.resolveRefs() as unknown as Description;
}

/** The operation the document names `operationId`, with its path and method. */
function operation(operationId: string) {
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, described] of Object.entries(methods)) {
      if (described.operationId === operationId) return { path, method, described };
    }
  }
  throw new Error(`the document has no operation ${operationId}`);
}

/**
 * Calls a procedure knowing only the document: its path and method, where its input goes (a query
 * parameter whose content is JSON, or a JSON body), which bearer scheme it requires (a token from `tokens`
 * by scheme name); then checks the answer against the response schema the document gives for its status.
 */
async function call(operationId: string, input: unknown, tokens: Record<string, string> = {}) {
  const { path, method, described } = operation(operationId);
  const url = new URL(path.slice(1), `${server.url}/`);
  const headers: Record<string, string> = {};
  for (const scheme of Object.keys(described.security[0] ?? {})) {
    const token = tokens[scheme];
    if (token) headers.authorization = `Bearer ${token}`;
  }
  let body: string | undefined;
  const queryInput = described.parameters?.find(
    (parameter) => parameter.in === 'query' && parameter.content?.['application/json'],
  );
  if (queryInput && input !== undefined) url.searchParams.set(queryInput.name, JSON.stringify(input));
  if (described.requestBody?.content['application/json'] && input !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(input);
  }
  const response = await fetch(url, { method: method.toUpperCase(), headers, body }).catch(
    (error: unknown) => {
      throw new Error(`${operationId}: the request failed`, { cause: error });
    },
  );
  const answer: unknown = await response.json();
  const documented = described.responses[String(response.status)] ?? described.responses.default!;
  const validate = ajv.compile(documented.content['application/json']!.schema);
  if (!validate(answer)) {
    throw new Error(
      `${operationId} answered ${response.status} off its schema: ${ajv.errorsText(validate.errors)}`,
    );
  }
  return { status: response.status, answer };
}

describe('/openapi.json', () => {
  beforeAll(loadDocument);

  it('describes every procedure of the router, each bearer scheme with how to get its token', () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const operationIds = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((described) => described.operationId),
    );
    expect(operationIds.sort()).toEqual(Object.keys(appRouter._def.procedures).sort());
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(
      domainModules.map((module) => module.name).sort(),
    );
    // Every composed module as the platform sees it: a sign-in hint is optional there.
    const modules: readonly DomainModule[] = domainModules;
    for (const module of modules) {
      expect(document.components.securitySchemes[module.name]).toMatchObject({
        type: 'http',
        scheme: 'bearer',
        ...(module.signInHint && { description: expect.stringContaining(module.signInHint) }),
      });
    }
    const required = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).flatMap((described) => described.security.flatMap(Object.keys)),
    );
    expect(new Set(required)).toEqual(new Set(Object.keys(document.components.securitySchemes)));
    // Sign-ins act for nobody yet: they require no token.
    expect(operation('poker.join').described.security).toEqual([]);
    expect(operation('decisions.auth.signIn').described.security).toEqual([]);
    expect(operation('poker.sessions.get').described.security).toEqual([{ poker: [] }]);
    // A mutation may carry an idempotency key; a query the read position of the caller's last write.
    const headers = (operationId: string) =>
      operation(operationId)
        .described.parameters?.filter((parameter) => parameter.in === 'header')
        .map((parameter) => parameter.name);
    expect(headers('poker.sessions.create')).toEqual(['idempotency-key']);
    expect(headers('poker.sessions.get')).toEqual(['x-huddle-lsn']);
  });

  it('lets a client that knows only the document call procedures of three modules', async () => {
    const joined = await call('poker.join', { name: 'Ann' });
    expect(joined.status).toBe(200);
    const poker = (joined.answer as { result: { data: { token: string } } }).result.data.token;
    const created = await call('poker.sessions.create', { name: 'Sprint 12' }, { poker });
    expect(created.status).toBe(200);
    const { id } = (created.answer as { result: { data: { id: number } } }).result.data;
    const session = await call('poker.sessions.get', { sessionId: id }, { poker });
    expect(session).toMatchObject({ status: 200, answer: { result: { data: { name: 'Sprint 12' } } } });

    const signedIn = await call('decisions.auth.signIn', { email: 'test@example.com', password: 'password' });
    expect(signedIn.status).toBe(200);
    const decisions = (signedIn.answer as { result: { data: { token: string } } }).result.data.token;
    const projects = await call('decisions.projects.mine', undefined, { decisions });
    expect(projects).toMatchObject({
      status: 200,
      answer: { result: { data: { items: expect.any(Array) } } },
    });
    expect(
      (projects.answer as { result: { data: { items: unknown[] } } }).result.data.items,
    ).not.toHaveLength(0);

    const { token: planner } = await issueSessionToken(database.db, TEST_SECRET, {
      module: 'planner',
      subject: 'ann',
    });
    const repositories = await call('planner.repositories.list', undefined, { planner });
    expect(repositories).toMatchObject({ status: 200, answer: { result: { data: { items: [] } } } });
  });

  it('describes the error body a refused call gets', async () => {
    const refused = await call('poker.sessions.get', { sessionId: 0 }, {});
    expect(refused).toMatchObject({ status: 401, answer: { error: { data: { code: 'UNAUTHORIZED' } } } });
    const invalid = await call('poker.join', { name: '' });
    expect(invalid).toMatchObject({
      status: 400,
      answer: { error: { data: { code: 'BAD_REQUEST', field: 'name', path: 'poker.join' } } },
    });
  });

  it('describes subscriptions as event streams, as they are served', async () => {
    const { path, method, described } = operation('poker.events');
    expect(method).toBe('get');
    expect(Object.keys(described.responses['200']!.content)).toEqual(['text/event-stream']);
    const joined = await call('poker.join', { name: 'Bo' });
    const poker = (joined.answer as { result: { data: { token: string } } }).result.data.token;
    const created = await call('poker.sessions.create', { name: 'Live' }, { poker });
    const { id } = (created.answer as { result: { data: { id: number } } }).result.data;
    const url = new URL(path.slice(1), `${server.url}/`);
    url.searchParams.set('input', JSON.stringify({ sessionId: id }));
    const response = await fetch(url, { headers: { authorization: `Bearer ${poker}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    // Read up to the subscription's first message (the server listens from then on) before hanging up.
    while (!received.includes('"subscribed"')) received += (await events.read()).value;
    expect(received).toMatch(/^event: connected\n/);
    await events.cancel();
  });
});

describe('GET /', () => {
  it('says where the API description, the health checks and the docs are', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    const index = (await response.json()) as Record<string, string>;
    expect(index).toMatchObject({ openapi: '/openapi.json', health: '/health', readiness: '/readyz' });
    expect(index.docs).toMatch(/^https:\/\//);
    expect((await fetch(`${server.url}${index.openapi}`)).status).toBe(200);
    expect((await fetch(`${server.url}${index.readiness}`)).status).toBe(200);
  });
});
