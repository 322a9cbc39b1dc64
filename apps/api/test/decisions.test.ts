import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { createHuddleClient, type HuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import { inRequestScope, ModuleResources, seed } from '@huddle/db';
import {
  DECISIONS_WEBHOOK_PATH,
  DECISIONS_WEBHOOK_PREVIOUS_SECRET_VARIABLE,
  DECISIONS_WEBHOOK_SECRET_VARIABLE,
  decisionsModule,
  type Embedder,
  type Extractor,
  hashingEmbedder,
  webhookReceiptSchema,
} from '@huddle/decisions';
import { useTestDatabase } from '@huddle/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type ApiServer, startApiServer } from '../src/server.ts';
import { DEFAULT_SIGN_IN_LIMITS } from '../src/sign-in-limits.ts';
import { failure, startTestServer, TEST_LOGGER, TEST_SECRET } from './helpers.ts';

const WEBHOOK_SECRET = 'decisions-webhook-secret-for-tests';
/** The secret being rotated out: still valid beside the current one. */
const PREVIOUS_WEBHOOK_SECRET = 'decisions-webhook-secret-rotated-out';
const database = useTestDatabase(domainModules);
let server: ApiServer;
/** Every line the server logged, as written (JSON). */
const logLines: string[] = [];
let director: HuddleClient;
let alphaId: number;
let betaId: number;

beforeAll(async () => {
  await seed(database.db, 'minimal', { module: 'decisions' });
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  server = await startTestServer(database.db, [], {
    env: {
      [DECISIONS_WEBHOOK_SECRET_VARIABLE]: WEBHOOK_SECRET,
      [DECISIONS_WEBHOOK_PREVIOUS_SECRET_VARIABLE]: PREVIOUS_WEBHOOK_SECRET,
    },
    logger,
  });
  director = await signedIn('test@example.com');
  const { items: projects } = await director.decisions.projects.mine.query();
  alphaId = projects.find((project) => project.name === 'Test Project Alpha')!.id;
  betaId = projects.find((project) => project.name === 'Test Project Beta')!.id;
});
afterAll(async () => {
  await server?.close();
});

async function signedIn(email: string): Promise<HuddleClient> {
  const { token } = await createHuddleClient(server.url).decisions.auth.signIn.mutate({
    email,
    password: 'password',
  });
  return createHuddleClient(server.url, { decisions: token });
}

async function query<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
  return inRequestScope(database.db.orm, (em) => em.execute(sql, params));
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await query<{ count: string }>(sql, params);
  return Number(row!.count);
}

const refusalSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().nullable() }),
});

/** Signs `body` as the README's curl example does: HMAC-SHA256 of `<timestamp>.<body>`. */
function sign(body: string, timestamp: string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000));

async function deliver(
  body: string,
  { timestamp = nowSeconds(), signature = sign(body, timestamp), url = server.url } = {},
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${url}${DECISIONS_WEBHOOK_PATH}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-huddle-timestamp': timestamp,
      'x-huddle-signature': signature,
    },
    body,
  });
  return { status: response.status, json: await response.json() };
}

function delivery(
  webhookId: string,
  content = 'Ann: We decided to adopt Kafka for the event bus.\nBob: Agreed.',
) {
  return JSON.stringify({
    webhookId,
    projectId: alphaId,
    title: 'Architecture sync',
    meetingAt: '2026-11-22T09:00:00Z',
    participants: [{ name: 'Ann', email: 'ann@example.com' }, { name: 'Bob' }],
    content,
  });
}

const transcriptsOf = (webhookId: string) =>
  count('select count(*) from decisions.transcripts where webhook_id = ?', [webhookId]);

describe('decisions over HTTP with the typed client', () => {
  it('a signed transcript, its proposed decisions accepted, one superseding another, a similarity query', async () => {
    const content = [
      'Ann: We decided to adopt Kafka for the event bus.',
      'Bob: Agreed.',
      'Ann: Decision: store decision embeddings in PostgreSQL with pgvector.',
      'Bob: Sounds good.',
    ].join('\n');
    const received = await deliver(delivery('done-when-1', content));
    expect(received.status).toBe(201);
    const receipt = webhookReceiptSchema.parse(received.json);
    expect(receipt.created).toBe(true);
    expect(receipt.transcript.source).toBe('webhook');
    expect(receipt.proposed.map((decision) => decision.status)).toEqual(['proposed', 'proposed']);
    const stored = await query<{ id: number; status: string }>(
      'select id, status from decisions.decisions where transcript_id = ? order by id',
      [receipt.transcript.id],
    );
    expect(stored.map((row) => row.id).sort()).toEqual(
      receipt.proposed.map((decision) => decision.id).sort(),
    );

    for (const proposed of receipt.proposed) {
      const accepted = await director.decisions.decisions.transition.mutate({
        decisionId: proposed.id,
        status: 'accepted',
      });
      expect(accepted.status).toBe('accepted');
    }
    const kafka = receipt.proposed.find((decision) => /kafka/i.test(decision.title))!;
    expect(kafka).toBeDefined();

    const redpanda = await director.decisions.decisions.create.mutate({
      projectId: alphaId,
      title: 'Adopt Redpanda for the event bus',
      statement: 'We replace Kafka with Redpanda for the event bus.',
      confidence: 0.9,
    });
    await director.decisions.decisions.relate.mutate({
      fromDecisionId: redpanda.id,
      toDecisionId: kafka.id,
      kind: 'supersedes',
    });
    await director.decisions.decisions.transition.mutate({ decisionId: redpanda.id, status: 'accepted' });
    const superseded = await director.decisions.decisions.get.query({ decisionId: kafka.id });
    expect(superseded.status).toBe('superseded');
    expect(superseded.relationships.map((link) => [link.label, link.decisionId])).toEqual([
      ['superseded by', redpanda.id],
    ]);
    const statuses = await query<{ id: number; status: string }>(
      'select id, status from decisions.decisions where id in (?, ?) order by id',
      [kafka.id, redpanda.id],
    );
    expect(statuses).toEqual([
      { id: kafka.id, status: 'superseded' },
      { id: redpanda.id, status: 'accepted' },
    ]);
    const { chain, position } = await director.decisions.decisions.supersedeChain.query({
      decisionId: kafka.id,
    });
    expect({ chain: chain.map((decision) => decision.id), position }).toEqual({
      chain: [kafka.id, redpanda.id],
      position: 0,
    });

    const similar = await director.decisions.similar.query({
      text: 'adopt Kafka for the event bus',
      projectId: alphaId,
      k: 3,
    });
    expect(similar[0]?.id).toBe(kafka.id);
    expect(similar.every((decision) => decision.projectId === alphaId)).toBe(true);
  });

  it('bad input is BAD_REQUEST naming the field, and creates nothing', async () => {
    const before = await count('select count(*) from decisions.projects');
    const error = await failure(director.decisions.projects.create.mutate({ name: '' }));
    expect(error.data?.code).toBe('BAD_REQUEST');
    expect(error.data?.field).toBe('name');
    expect(error.message).toMatch(/^name: /);
    expect(await count('select count(*) from decisions.projects')).toBe(before);
  });

  it('a wrong password and an unknown email get the same UNAUTHORIZED answer', async () => {
    const anonymous = createHuddleClient(server.url).decisions.auth.signIn;
    const wrongPassword = await failure(anonymous.mutate({ email: 'test@example.com', password: 'wrong' }));
    const unknownEmail = await failure(
      anonymous.mutate({ email: 'nobody@example.com', password: 'password' }),
    );
    expect(wrongPassword.data?.code).toBe('UNAUTHORIZED');
    expect({
      message: unknownEmail.message,
      code: unknownEmail.data?.code,
      field: unknownEmail.data?.field,
    }).toEqual({
      message: wrongPassword.message,
      code: wrongPassword.data?.code,
      field: wrongPassword.data?.field,
    });
  });

  it('a viewer cannot write (FORBIDDEN) and a non-member sees no project (NOT_FOUND)', async () => {
    // member@example.com is a viewer of Alpha and no member of Beta (the minimal seed).
    const viewer = await signedIn('member@example.com');
    const before = await count('select count(*) from decisions.decisions where project_id = ?', [alphaId]);
    const write = await failure(
      viewer.decisions.decisions.create.mutate({
        projectId: alphaId,
        title: 'A viewer’s decision',
        statement: 'Viewers read, they do not decide.',
        confidence: 0.5,
      }),
    );
    expect(write.data?.code).toBe('FORBIDDEN');
    expect(await count('select count(*) from decisions.decisions where project_id = ?', [alphaId])).toBe(
      before,
    );
    expect((await viewer.decisions.projects.get.query({ projectId: alphaId })).myRole).toBe('viewer');

    const hidden = await failure(viewer.decisions.projects.get.query({ projectId: betaId }));
    expect(hidden.data?.code).toBe('NOT_FOUND');
  });
});

describe('the decision log over HTTP: revisions, search, ADR export and import', () => {
  it('records who changed a decision, finds it by words, and moves it between projects as ADR files', async () => {
    const viewer = await signedIn('member@example.com');
    const created = await director.decisions.decisions.create.mutate({
      projectId: alphaId,
      title: 'Keep the audit trail replayable',
      statement: 'We will keep the audit trail in a log we can replay.',
      confidence: 0.9,
    });
    await director.decisions.decisions.edit.mutate({
      decisionId: created.id,
      rationale: 'Replay of events.',
    });
    await director.decisions.decisions.transition.mutate({ decisionId: created.id, status: 'accepted' });
    const revisions = await viewer.decisions.decisions.revisions.query({ decisionId: created.id });
    expect(
      revisions.items.map(({ revision, changedFields, changedByName }) => ({
        revision,
        changedFields,
        changedByName,
      })),
    ).toEqual([
      { revision: 2, changedFields: ['status'], changedByName: 'Test Director' },
      { revision: 1, changedFields: ['rationale'], changedByName: 'Test Director' },
    ]);
    expect(
      await count('select count(*) from decisions.decision_revisions where decision_id = ?', [created.id]),
    ).toBe(2);

    const found = await viewer.decisions.search.query({ text: 'replaying the audit trail' });
    expect(found.items[0]).toMatchObject({ id: created.id, textRank: 1 });
    const outsider = await failure(viewer.decisions.search.query({ text: 'kafka', projectId: betaId }));
    expect(outsider.data?.code).toBe('NOT_FOUND');

    const exported = await director.decisions.adr.export.query({ projectId: alphaId });
    const file = exported.items.find((item) =>
      item.path.startsWith(`${String(created.id).padStart(4, '0')}-`),
    )!;
    expect(file.content).toContain('status: accepted');
    const report = await director.decisions.adr.import.mutate({ projectId: betaId, files: [file] });
    expect(report).toMatchObject({ imported: 1, skipped: 0 });
    const copy = await director.decisions.decisions.get.query({ decisionId: report.files[0]!.decisionId! });
    expect(copy).toMatchObject({
      projectId: betaId,
      title: created.title,
      rationale: 'Replay of events.',
      status: 'accepted',
    });

    const before = await count('select count(*) from decisions.decisions');
    const refused = await failure(director.decisions.adr.import.mutate({ projectId: betaId, files: [] }));
    expect(refused.data?.code).toBe('BAD_REQUEST');
    expect(refused.message).toMatch(/^files: /);
    const forbidden = await failure(
      viewer.decisions.adr.import.mutate({ projectId: alphaId, files: [file] }),
    );
    expect(forbidden.data?.code).toBe('FORBIDDEN');
    expect(await count('select count(*) from decisions.decisions')).toBe(before);
  });
});

describe('decisions: bounded work per request', () => {
  // Before extraction became linear, 40,000 dots took 2.7 s of the event loop and 120,000 took 33 s, while
  // /health from another client waited; 400 KiB took minutes. It must complete, and /health answer beside it.
  it('extracts from an adversarial transcript while another client’s /health answers', async () => {
    const project = await director.decisions.projects.create.mutate({ name: 'Adversarial extraction' });
    const transcript = await director.decisions.transcripts.create.mutate({
      projectId: project.id,
      title: 'Dots',
      meetingAt: '2026-11-22T09:00:00Z',
      content: `We decided to ship it${'.'.repeat(400 * 1024)}x`,
    });
    const [extraction, health] = await Promise.all([
      director.decisions.transcripts.extract.mutate({ transcriptId: transcript.id }),
      fetch(`${server.url}/health`).then((response) => response.status),
    ]);
    // Read in pieces of 32 KiB cut at a space (so the extractor yields between them): the first ends before "it".
    expect(extraction.proposed.map((decision) => decision.title)).toEqual(['Ship']);
    expect(health).toBe(200);
    const { items } = await director.decisions.transcripts.list.query({ projectId: project.id });
    expect(items.map((item) => [item.id, 'content' in item])).toEqual([[transcript.id, false]]);
  });

  it('rate-limits password changes like sign-ins, per user and address', async () => {
    const user = await director.decisions.users.create.mutate({
      email: 'password-guesser@example.com',
      name: 'Guesser',
      password: 'the-real-password',
    });
    const { token } = await createHuddleClient(server.url).decisions.auth.signIn.mutate({
      email: user.email,
      password: 'the-real-password',
    });
    const guesser = createHuddleClient(server.url, { decisions: token });
    const codes: (string | undefined)[] = [];
    for (let attempt = 0; attempt <= DEFAULT_SIGN_IN_LIMITS.perIdentityAndAddress; attempt++) {
      const error = await failure(
        guesser.decisions.users.changePassword.mutate({
          currentPassword: `guess-${attempt}`,
          newPassword: 'a-new-password',
        }),
      );
      codes.push(error.data?.code);
    }
    expect(codes.at(-1)).toBe('TOO_MANY_REQUESTS');
    expect(new Set(codes.slice(0, -1))).toEqual(new Set(['UNAUTHORIZED']));
  });
});

describe('the decisions webhook (POST /webhooks/decisions/transcripts)', () => {
  it('refuses a bad signature (401) and stores nothing', async () => {
    const body = delivery('bad-signature');
    const timestamp = nowSeconds();
    const forged = await deliver(body, { timestamp, signature: sign(body, timestamp, 'another secret') });
    expect(forged.status).toBe(401);
    expect(refusalSchema.parse(forged.json).error).toMatchObject({
      code: 'UNAUTHORIZED',
      field: 'signature',
    });
    const missing = await deliver(body, { signature: '' });
    expect(missing.status).toBe(401);
    expect(await transcriptsOf('bad-signature')).toBe(0);
  });

  it('refuses a stale timestamp (401), even correctly signed: a replay', async () => {
    const body = delivery('stale');
    const stale = await deliver(body, { timestamp: String(Math.floor(Date.now() / 1000) - 3600) });
    expect(stale.status).toBe(401);
    expect(refusalSchema.parse(stale.json).error).toMatchObject({ code: 'UNAUTHORIZED', field: 'timestamp' });
    expect(await transcriptsOf('stale')).toBe(0);
  });

  it('answers 400 naming the field for a malformed body, and 413 for an oversized one', async () => {
    const notJson = await deliver('{"webhookId":');
    expect(notJson.status).toBe(400);
    expect(refusalSchema.parse(notJson.json).error).toMatchObject({ code: 'BAD_REQUEST', field: 'body' });

    const { title: _title, ...untitled } = JSON.parse(delivery('untitled'));
    const noTitle = await deliver(JSON.stringify(untitled));
    expect(noTitle.status).toBe(400);
    const refusal = refusalSchema.parse(noTitle.json).error;
    expect(refusal).toMatchObject({ code: 'BAD_REQUEST', field: 'title' });
    expect(refusal.message).toMatch(/^title: /);

    const oversized = await deliver(delivery('oversized', 'x'.repeat(1024 * 1024)));
    expect(oversized.status).toBe(413);
    // Without a content-length (chunked), the limit is counted while reading.
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const streamed = await fetch(`${server.url}${DECISIONS_WEBHOOK_PATH}`, {
      method: 'POST',
      body: new ReadableStream({
        pull(controller) {
          if (sent++ < 20) controller.enqueue(chunk);
          else controller.close();
        },
      }),
      duplex: 'half',
    }).catch((error: unknown) => error);
    expect(streamed instanceof Response ? streamed.status : streamed).toBe(413);
    expect(
      await count("select count(*) from decisions.transcripts where webhook_id in ('untitled', 'oversized')"),
    ).toBe(0);
  });

  it('answers a redelivery with the transcript it created (200), proposing nothing again', async () => {
    const body = delivery('redelivered');
    const first = await deliver(body);
    const again = await deliver(body);
    expect([first.status, again.status]).toEqual([201, 200]);
    const [created, redelivered] = [
      webhookReceiptSchema.parse(first.json),
      webhookReceiptSchema.parse(again.json),
    ];
    expect(redelivered).toMatchObject({ created: false, proposed: [], transcript: created.transcript });
    expect(await transcriptsOf('redelivered')).toBe(1);
    expect(
      await count('select count(*) from decisions.decisions where transcript_id = ?', [
        created.transcript.id,
      ]),
    ).toBe(created.proposed.length);
  });

  it('proposes a meeting delivered under two ids once: the second answer names the decision it repeats', async () => {
    const content = 'Bob: Agreed. We will adopt NATS for the telemetry bus because we need replay.\nCem: +1';
    const first = webhookReceiptSchema.parse((await deliver(delivery('twice-a', content))).json);
    const [adopted] = first.proposed;
    expect(adopted).toMatchObject({ title: 'Adopt NATS for the telemetry bus', rationale: 'We need replay' });
    const second = await deliver(delivery('twice-b', content));
    expect(second.status).toBe(201);
    const receipt = webhookReceiptSchema.parse(second.json);
    expect(receipt).toMatchObject({ created: true, proposed: [] });
    expect(receipt.duplicates).toEqual([
      {
        title: 'Adopt NATS for the telemetry bus',
        decisionId: adopted!.id,
        decisionTitle: 'Adopt NATS for the telemetry bus',
        status: 'proposed',
        match: 'title',
        distance: 0,
      },
    ]);
    const extraction = await director.decisions.transcripts.extract.mutate({
      transcriptId: receipt.transcript.id,
    });
    expect(extraction).toMatchObject({
      proposed: [],
      duplicates: [{ decisionId: adopted!.id, match: 'title' }],
    });
    expect(
      await count('select count(*) from decisions.decisions where project_id = ? and title = ?', [
        alphaId,
        'Adopt NATS for the telemetry bus',
      ]),
    ).toBe(1);
  });

  it('answers a delivery id reused in another project or with other content with 409, revealing nothing', async () => {
    const first = await deliver(delivery('zoom-0001', 'Ann: We decided to keep the secret plan.'));
    expect(first.status).toBe(201);
    const elsewhere = JSON.stringify({ ...JSON.parse(delivery('zoom-0001')), projectId: betaId });
    for (const reuse of [elsewhere, delivery('zoom-0001', 'Ann: We decided on something else.')]) {
      const answer = await deliver(reuse);
      expect(answer.status).toBe(409);
      expect(refusalSchema.parse(answer.json).error.field).toBe('webhookId');
      expect(JSON.stringify(answer.json)).not.toMatch(/secret plan|Architecture sync/);
    }
    expect(await count('select count(*) from decisions.transcripts where project_id = ?', [betaId])).toBe(0);
  });

  it('accepts deliveries signed with the previous secret while it is rotated out', async () => {
    const body = delivery('signed-with-previous');
    const timestamp = nowSeconds();
    const answer = await deliver(body, {
      timestamp,
      signature: sign(body, timestamp, PREVIOUS_WEBHOOK_SECRET),
    });
    expect(answer.status).toBe(201);
    expect(await transcriptsOf('signed-with-previous')).toBe(1);
  });

  it('two concurrent deliveries of one id make one transcript', async () => {
    const body = delivery('concurrent');
    const answers = await Promise.all([deliver(body), deliver(body)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 201]);
    const [one, other] = answers.map((answer) => webhookReceiptSchema.parse(answer.json));
    expect(one!.transcript.id).toBe(other!.transcript.id);
    expect(await transcriptsOf('concurrent')).toBe(1);
  });

  it('is logged by the access log like any request, never with its body or the secret', async () => {
    const body = delivery('logged', 'Ann: We decided to log every delivery without its body.');
    logLines.length = 0;
    await deliver(body, { signature: sign(body, nowSeconds(), 'wrong secret') });
    await deliver(body);
    const access = logLines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request');
    expect(
      access.map(({ method, procedures, status, errors }) => ({ method, procedures, status, errors })),
    ).toEqual([
      {
        method: 'POST',
        procedures: ['webhooks/decisions/transcripts'],
        status: 401,
        errors: ['UNAUTHORIZED'],
      },
      { method: 'POST', procedures: ['webhooks/decisions/transcripts'], status: 201, errors: undefined },
    ]);
    const logged = logLines.join('');
    expect(logged).not.toContain('without its body');
    expect(logged).not.toContain(WEBHOOK_SECRET);
  });

  it('a sender that goes away mid-body is refused as its mistake (400), not as the database unavailable', async () => {
    logLines.length = 0;
    await new Promise<void>((resolve) => {
      const sending = request(`${server.url}${DECISIONS_WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { 'content-length': '1000' },
      });
      sending.on('error', () => resolve());
      sending.write('{"webhookId":', () => sending.destroy());
    });
    // The access line may close before the refusal is known (the socket is gone); the refusal's own line says it.
    const outcome = await vi.waitFor(() => {
      const line = logLines.map((text) => JSON.parse(text)).find((entry) => /^webhook /.test(entry.msg));
      if (!line) throw new Error('the webhook has not answered yet');
      return line;
    });
    expect({ msg: outcome.msg, code: outcome.code }).toEqual({ msg: 'webhook refused', code: 'BAD_REQUEST' });
    expect(logLines.map((text) => JSON.parse(text).level).filter((level) => level >= 50)).toEqual([]);
  });

  it('answers 412 naming the variable when no secret is configured (not a fault of the server)', async () => {
    const unconfigured = await startTestServer(database.db, [], { logger: pino({ level: 'silent' }) });
    try {
      const body = delivery('unconfigured');
      const answer = await deliver(body, { url: unconfigured.url });
      expect(answer.status).toBe(412);
      expect(refusalSchema.parse(answer.json).error.message).toContain('HUDDLE_DECISIONS_WEBHOOK_SECRET');
      expect(await transcriptsOf('unconfigured')).toBe(0);
    } finally {
      await unconfigured.close();
    }
  });
});

describe('the decisions module’s resources (extractor, embedder) as the server was composed with them', () => {
  it('reach the webhook route and transcripts.extract', async () => {
    const extractor: Extractor = {
      name: 'composed-test',
      extract: async ({ title }) => [
        {
          title: `Composed: ${title}`,
          statement: `The composed extractor read ${title}.`,
          rationale: null,
          confidence: 0.5,
          consensus: { for: [], against: [], abstain: [] },
        },
      ],
    };
    const embedder: Embedder = { name: 'composed-test-v1', embed: hashingEmbedder.embed };
    const composed = await startApiServer({
      db: database.db,
      secret: TEST_SECRET,
      moduleResources: (await ModuleResources.fromEnv(database.db.modules)).with(decisionsModule, {
        extractor,
        embedder,
        webhookSecrets: [WEBHOOK_SECRET],
      }),
      port: 0,
      host: '127.0.0.1',
      logger: TEST_LOGGER,
    });
    try {
      const hooked = await deliver(
        JSON.stringify({
          webhookId: 'composed-resources',
          projectId: alphaId,
          title: 'Hooked sync',
          meetingAt: '2026-11-22T09:00:00Z',
          content: 'Ann: We decided nothing the rules would read.',
        }),
        { url: composed.url },
      );
      expect(hooked.status).toBe(201);
      const receipt = webhookReceiptSchema.parse(hooked.json);
      expect(receipt.proposed.map((decision) => decision.title)).toEqual(['Composed: Hooked sync']);
      const client = createHuddleClient(composed.url, {
        decisions: (
          await createHuddleClient(composed.url).decisions.auth.signIn.mutate({
            email: 'test@example.com',
            password: 'password',
          })
        ).token,
      });
      const transcript = await client.decisions.transcripts.create.mutate({
        projectId: alphaId,
        title: 'Extracted sync',
        meetingAt: '2026-11-22T10:00:00Z',
        content: 'Ann: Nothing decided here either.',
      });
      const extraction = await client.decisions.transcripts.extract.mutate({ transcriptId: transcript.id });
      expect(extraction.proposed.map((decision) => decision.title)).toEqual(['Composed: Extracted sync']);
      const models = await query<{ embedding_model: string }>(
        'select embedding_model from decisions.decisions where transcript_id in (?, ?)',
        [receipt.transcript.id, transcript.id],
      );
      expect(models).toEqual([
        { embedding_model: 'composed-test-v1' },
        { embedding_model: 'composed-test-v1' },
      ]);
    } finally {
      await composed.close();
    }
  });
});
