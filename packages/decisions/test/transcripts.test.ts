import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  poolUsage,
  UnauthorizedError,
} from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecisionsActor } from '../src/actor.ts';
import { modelExtractor } from '../src/extraction/model-extractor.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { defaultDecisionsResources } from '../src/resources.ts';
import { parseWebhookBody, verifyWebhookSignature, webhookSignature } from '../src/webhook.ts';
import { newDirector, newPerson, newProject, newProjectCast } from './fixtures.ts';
import { call, callStepped, expectHuddleError, receiveDelivery, useSqlClient } from './helpers.ts';

const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
let owner: DecisionsActor;
let member: DecisionsActor;
let viewer: DecisionsActor;
let stranger: DecisionsActor;
let projectId: number;

beforeAll(async () => {
  ({ owner, member, viewer, stranger, projectId } = await newProjectCast(test.db));
});

const MEETING = [
  'Ann: Thanks for joining.',
  'Decision: use feature flags for every risky release.',
  'Bob: +1',
  'Cem: I object, flags pile up.',
  'Ann: We also agreed to review the flags monthly.',
  'Bob: Should we decide on a naming scheme?',
].join('\n');

describe('transcripts', () => {
  it('records a manual or uploaded transcript with validated participants (member)', async () => {
    const transcript = await call(test.db, member, decisionsOperations.transcripts.create, {
      projectId,
      title: 'Planning',
      source: 'upload',
      meetingAt: '2026-11-20T10:00:00+01:00',
      participants: [{ name: 'Ann', email: 'Ann@Example.com' }, { name: 'Bob' }],
      content: MEETING,
    });
    expect(transcript).toMatchObject({
      projectId,
      source: 'upload',
      webhookId: null,
      meetingAt: '2026-11-20T09:00:00.000Z',
      participants: [{ name: 'Ann', email: 'ann@example.com' }, { name: 'Bob' }],
    });
    const badParticipant = await expectHuddleError(
      call(test.db, member, decisionsOperations.transcripts.create, {
        projectId,
        title: 'T',
        meetingAt: '2026-11-20T10:00:00Z',
        participants: [{ name: 'X', email: 'not-an-email' }],
        content: 'c',
      }),
      InvalidInputError,
    );
    expect(badParticipant.constraint.field).toBe('participants.0.email');
    await expectHuddleError(
      call(test.db, viewer, decisionsOperations.transcripts.create, {
        projectId,
        title: 'T',
        meetingAt: '2026-11-20T10:00:00Z',
        content: 'c',
      }),
      ForbiddenError,
    );
    await expectHuddleError(
      call(test.db, stranger, decisionsOperations.transcripts.get, { transcriptId: transcript.id }),
      NotFoundError,
    );
  });

  it('finds transcripts by participant email or name through the GIN index’s containment', async () => {
    const searchProject = await newProject(test.db, owner);
    const add = (title: string, participants: { name: string; email?: string }[], meetingAt: string) =>
      call(test.db, owner, decisionsOperations.transcripts.create, {
        projectId: searchProject,
        title,
        meetingAt,
        participants,
        content: 'x',
      });
    await add('One', [{ name: 'Ann', email: 'ann@example.com' }], '2026-01-01T00:00:00Z');
    await add('Two', [{ name: 'Bob' }, { name: 'Ann', email: 'ann@example.com' }], '2026-02-01T00:00:00Z');
    await add('Three', [{ name: 'Bob' }], '2026-03-01T00:00:00Z');
    const search = (input: { participantEmail?: string; participantName?: string }) =>
      call(test.db, owner, decisionsOperations.transcripts.list, { projectId: searchProject, ...input }).then(
        (page) => page.items.map((row) => row.title),
      );
    expect(await search({})).toEqual(['Three', 'Two', 'One']);
    expect(await search({ participantEmail: 'ANN@example.com' })).toEqual(['Two', 'One']);
    expect(await search({ participantName: 'Bob' })).toEqual(['Three', 'Two']);
  });

  it('proposes decisions from a transcript, and extracting again proposes nothing new', async () => {
    const transcript = await call(test.db, member, decisionsOperations.transcripts.create, {
      projectId,
      title: 'Flags',
      meetingAt: '2026-11-21T09:00:00Z',
      content: MEETING,
    });
    const first = await callStepped(test.db, member, decisionsOperations.transcripts.extract, {
      transcriptId: transcript.id,
    });
    expect(
      first.proposed.map((decision) => [
        decision.title,
        decision.status,
        decision.transcriptId,
        decision.confidence,
      ]),
    ).toEqual([
      ['Use feature flags for every risky release', 'proposed', transcript.id, 0.85],
      ['Review the flags monthly', 'proposed', transcript.id, 0.85],
    ]);
    expect(first.proposed[0]?.consensus).toEqual({ for: ['Bob'], against: ['Cem'], abstain: [] });
    expect(first.proposed[0]?.decidedAt).toBe('2026-11-21T09:00:00.000Z');
    // A deleted proposal does not come back either.
    await call(test.db, member, decisionsOperations.decisions.delete, { decisionId: first.proposed[1]!.id });
    const second = await callStepped(test.db, member, decisionsOperations.transcripts.extract, {
      transcriptId: transcript.id,
    });
    expect(second).toEqual({ transcriptId: transcript.id, proposed: [], alreadyProposed: 2, duplicates: [] });
    const { rows } = await postgres.client.query(
      'select count(*)::int as n from decisions.decisions where transcript_id = $1',
      [transcript.id],
    );
    expect(rows[0].n).toBe(2);
    await expectHuddleError(
      callStepped(test.db, viewer, decisionsOperations.transcripts.extract, { transcriptId: transcript.id }),
      ForbiddenError,
    );
  });

  it('keeps an archived project readable, and a project whose creator was deleted', async () => {
    const director = await newDirector(test.db);
    const creator = await newPerson(test.db, director, 'Leaving Creator');
    const project = await newProject(test.db, creator, { viewers: [viewer] });
    // A project keeps a live owner: its creator can leave only once someone else owns it.
    const successor = await newPerson(test.db, director, 'Staying Owner');
    await call(test.db, creator, decisionsOperations.projects.addMember, {
      projectId: project,
      userId: successor.userId,
      role: 'owner',
    });
    const transcript = await call(test.db, creator, decisionsOperations.transcripts.create, {
      projectId: project,
      title: 'Kept',
      meetingAt: '2026-11-20T10:00:00Z',
      content: 'Decision: keep it.',
    });
    const { proposed } = await callStepped(test.db, creator, decisionsOperations.transcripts.extract, {
      transcriptId: transcript.id,
    });
    await call(test.db, creator, decisionsOperations.projects.archive, { projectId: project });
    await call(test.db, director, decisionsOperations.users.delete, { userId: creator.userId });
    expect(
      (await call(test.db, viewer, decisionsOperations.transcripts.get, { transcriptId: transcript.id }))
        .title,
    ).toBe('Kept');
    expect(
      (await call(test.db, viewer, decisionsOperations.transcripts.list, { projectId: project })).items,
    ).toHaveLength(1);
    expect(
      (await call(test.db, viewer, decisionsOperations.decisions.get, { decisionId: proposed[0]!.id })).title,
    ).toBe('Keep it');
    expect(
      (await call(test.db, viewer, decisionsOperations.decisions.list, { projectId: project })).items,
    ).toHaveLength(1);
    const projects = await call(test.db, viewer, decisionsOperations.projects.mine, {
      includeArchived: true,
    });
    expect(projects.items.map((row) => row.id)).toContain(project);
  });

  it('refuses writes into an archived project', async () => {
    const archived = await newProject(test.db, owner);
    await call(test.db, owner, decisionsOperations.projects.archive, { projectId: archived });
    const error = await expectHuddleError(
      call(test.db, owner, decisionsOperations.transcripts.create, {
        projectId: archived,
        title: 'T',
        meetingAt: '2026-11-20T10:00:00Z',
        content: 'c',
      }),
      ConflictError,
    );
    expect(error.message).toMatch(/archived/);
  });
});

describe('webhook deliveries', () => {
  // Each delivery decides something of its own: the same decision twice in a project is a duplicate.
  const delivery = (webhookId: string) => ({
    webhookId,
    projectId,
    title: 'Standup',
    meetingAt: '2026-11-22T08:00:00Z',
    participants: [{ name: 'Ann' }],
    content: `Ann: We decided to ship ${webhookId} on Friday.\nBob: Works for me.`,
  });

  it('creates the transcript and its proposed decisions once; a redelivery answers with the same transcript', async () => {
    const first = await receiveDelivery(test.db, delivery('tool-42'));
    expect(first.created).toBe(true);
    expect(first.transcript).toMatchObject({ source: 'webhook', webhookId: 'tool-42', projectId });
    expect(first.proposed.map((decision) => [decision.title, decision.consensus.for])).toEqual([
      ['Ship tool-42 on Friday', ['Ann', 'Bob']],
    ]);
    const again = await receiveDelivery(test.db, delivery('tool-42'));
    expect(again).toEqual({ transcript: first.transcript, created: false, proposed: [], duplicates: [] });
  });

  it('refuses a delivery id reused for other content or another project (409), revealing nothing', async () => {
    const first = await receiveDelivery(test.db, delivery('tool-reused'));
    const otherProject = await newProject(test.db, owner);
    for (const reuse of [
      { ...delivery('tool-reused'), projectId: otherProject },
      { ...delivery('tool-reused'), content: 'Ann: We decided to ship on Monday.' },
      { ...delivery('tool-reused'), title: 'Another standup' },
    ]) {
      const error = await expectHuddleError(receiveDelivery(test.db, reuse), ConflictError);
      expect(error.constraint.field).toBe('webhookId');
      expect(error.message).not.toMatch(/Standup|Friday|project/i);
    }
    const { rows } = await postgres.client.query(
      'select project_id, content from decisions.transcripts where webhook_id = $1',
      ['tool-reused'],
    );
    expect(rows).toEqual([{ project_id: projectId, content: first.transcript.content }]);
    const { rows: elsewhere } = await postgres.client.query(
      'select count(*)::int as n from decisions.transcripts where project_id = $1',
      [otherProject],
    );
    expect(elsewhere[0].n).toBe(0);
  });

  it('makes one transcript of two concurrent deliveries of one id', async () => {
    const results = await Promise.all([
      receiveDelivery(test.db, delivery('tool-race')),
      receiveDelivery(test.db, delivery('tool-race')),
    ]);
    expect(results.map((result) => result.created).sort()).toEqual([false, true]);
    expect(results[0]!.transcript.id).toBe(results[1]!.transcript.id);
    const { rows } = await postgres.client.query(
      `select (select count(*)::int from decisions.transcripts where webhook_id = 'tool-race') as transcripts,
              (select count(*)::int from decisions.decisions d join decisions.transcripts t on t.id = d.transcript_id where t.webhook_id = 'tool-race') as decisions`,
    );
    expect(rows[0]).toEqual({ transcripts: 1, decisions: 1 });
  });

  it('does not propose again what the project holds: the same meeting under another id, or the same decision reworded', async () => {
    const project = await newProject(test.db, owner);
    const meeting = (webhookId: string, content: string) => ({
      ...delivery(webhookId),
      projectId: project,
      content,
    });
    const kafka = 'Ann: Agreed. We will adopt Kafka for the event bus because we need replay.\nBob: +1';
    const first = await receiveDelivery(test.db, meeting('dup-first', kafka));
    const [adopted] = first.proposed;
    expect(adopted?.title).toBe('Adopt Kafka for the event bus');
    const again = await receiveDelivery(test.db, meeting('dup-second', kafka));
    expect(again.created).toBe(true);
    expect(again.proposed).toEqual([]);
    expect(again.duplicates).toEqual([
      {
        title: 'Adopt Kafka for the event bus',
        decisionId: adopted!.id,
        decisionTitle: 'Adopt Kafka for the event bus',
        status: 'proposed',
        match: 'title',
        distance: 0,
      },
    ]);
    // Accepted, reworded ("as" for "for", other punctuation), and beside a decision that is new.
    await call(test.db, owner, decisionsOperations.decisions.transition, {
      decisionId: adopted!.id,
      status: 'accepted',
    });
    const reworded = await receiveDelivery(
      test.db,
      meeting(
        'dup-reworded',
        'Cem: We will adopt Kafka as the event bus.\nDan: From now on, the audit log keeps 90 days.',
      ),
    );
    expect(reworded.proposed.map((decision) => decision.title)).toEqual(['The audit log keeps 90 days']);
    expect(reworded.duplicates).toMatchObject([
      {
        title: 'Adopt Kafka as the event bus',
        decisionId: adopted!.id,
        status: 'accepted',
        match: 'meaning',
      },
    ]);
    expect(reworded.duplicates[0]!.distance).toBeLessThanOrEqual(0.1);
    // Through the API's extraction too: a transcript entered by hand proposes nothing the project holds.
    const typed = await call(test.db, owner, decisionsOperations.transcripts.create, {
      projectId: project,
      title: 'Typed up',
      meetingAt: '2026-11-23T08:00:00Z',
      content:
        'Eve: We will adopt Kafka for the event bus!\nFay: Then we choose Acme for the support contract.',
    });
    const extraction = await callStepped(test.db, owner, decisionsOperations.transcripts.extract, {
      transcriptId: typed.id,
    });
    expect(extraction.proposed.map((decision) => decision.title)).toEqual([
      'Choose Acme for the support contract',
    ]);
    expect(extraction.duplicates.map(({ decisionId, match }) => [decisionId, match])).toEqual([
      [adopted!.id, 'title'],
    ]);
    const { rows } = await postgres.client.query(
      `select title, count(*)::int as n from decisions.decisions where project_id = $1 group by title order by title`,
      [project],
    );
    expect(rows).toEqual([
      { title: 'Adopt Kafka for the event bus', n: 1 },
      { title: 'Choose Acme for the support contract', n: 1 },
      { title: 'The audit log keeps 90 days', n: 1 },
    ]);
  });

  it('proposes one decision when two deliveries of one meeting under two ids arrive at once', async () => {
    const project = await newProject(test.db, owner);
    const meeting = (webhookId: string) => ({
      ...delivery(webhookId),
      projectId: project,
      content: 'Ann: Going forward, every incident gets a written review.',
    });
    const receipts = await Promise.all([
      receiveDelivery(test.db, meeting('dup-race-a')),
      receiveDelivery(test.db, meeting('dup-race-b')),
    ]);
    expect(receipts.map((receipt) => receipt.proposed.length).sort()).toEqual([0, 1]);
    expect(receipts.map((receipt) => receipt.duplicates.length).sort()).toEqual([0, 1]);
    const { rows } = await postgres.client.query(
      'select count(*)::int as n from decisions.decisions where project_id = $1',
      [project],
    );
    expect(rows[0].n).toBe(1);
  });

  it('refuses a malformed body by field, and a delivery for a project that does not exist', async () => {
    expect(() => parseWebhookBody('{"webhookId": ')).toThrow(InvalidInputError);
    const error = await expectHuddleError(
      receiveDelivery(test.db, {
        ...delivery('tool-bad'),
        meetingAt: 'yesterday',
      }),
      InvalidInputError,
    );
    expect(error.constraint.field).toBe('meetingAt');
    await expectHuddleError(
      receiveDelivery(test.db, {
        ...delivery('tool-ghost'),
        projectId: 999999,
      }),
      NotFoundError,
    );
  });

  it('refuses a first delivery into an archived project, but still answers a redelivery', async () => {
    const archivedProject = await newProject(test.db, owner);
    const into = (webhookId: string) => ({ ...delivery(webhookId), projectId: archivedProject });
    const before = await receiveDelivery(test.db, into('tool-before-archive'));
    await call(test.db, owner, decisionsOperations.projects.archive, { projectId: archivedProject });
    const error = await expectHuddleError(
      receiveDelivery(test.db, into('tool-after-archive')),
      ConflictError,
    );
    expect(error.message).toMatch(/archived/);
    const again = await receiveDelivery(test.db, into('tool-before-archive'));
    expect(again).toEqual({ transcript: before.transcript, created: false, proposed: [], duplicates: [] });
    const { rows } = await postgres.client.query(
      'select count(*)::int as n from decisions.transcripts where project_id = $1',
      [archivedProject],
    );
    expect(rows[0].n).toBe(1);
  });
});

describe('extraction by a model server', () => {
  it('asks the server with no transaction open, and records what it lists (webhook and transcripts.extract)', async () => {
    const project = await newProject(test.db, owner);
    const held: { transactions: number; connections: number }[] = [];
    const server = createServer(async (request, response) => {
      for await (const _chunk of request);
      // While the server thinks, the service must hold no pool connection and no transaction (no locks).
      const { rows } = await postgres.client.query(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null`,
      );
      const pool = await poolUsage(test.db);
      held.push({ transactions: rows[0].n, connections: pool.kind === 'postgresql' ? pool.inUse : 0 });
      const decisions = [{ title: `Model decision ${held.length}`, statement: 'We will.', for: ['Ann'] }];
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ choices: [{ message: { content: JSON.stringify({ decisions }) } }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const resources = {
        ...defaultDecisionsResources(),
        extractor: modelExtractor({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
          model: 'm',
        }),
      };
      const hooked = await receiveDelivery(
        test.db,
        {
          webhookId: 'model-1',
          projectId: project,
          title: 'T',
          meetingAt: '2026-11-22T08:00:00Z',
          content: 'Ann: hi',
        },
        resources,
      );
      expect(hooked.proposed.map((decision) => [decision.title, decision.consensus.for])).toEqual([
        ['Model decision 1', ['Ann']],
      ]);
      const extraction = await callStepped(
        test.db,
        owner,
        decisionsOperations.transcripts.extract,
        { transcriptId: hooked.transcript.id },
        resources,
      );
      expect(extraction.proposed.map((decision) => decision.title)).toEqual(['Model decision 2']);
      expect(held).toEqual([
        { transactions: 0, connections: 0 },
        { transactions: 0, connections: 0 },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('webhook signatures', () => {
  const secret = 'a-webhook-secret-of-enough-length';
  const rawBody = '{"webhookId":"x"}';
  const now = new Date('2026-11-22T12:00:00Z');
  const timestamp = String(now.getTime() / 1000);
  const signed = {
    secrets: [secret],
    rawBody,
    timestamp,
    signature: webhookSignature(secret, timestamp, rawBody),
    now,
  };

  it('accepts a fresh delivery signed with the secret', () => {
    expect(() => verifyWebhookSignature(signed)).not.toThrow();
    expect(signed.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('refuses a bad signature, a changed body, another secret, and missing headers', () => {
    const refuse = (changes: Partial<typeof signed>, field: string) => {
      let caught: unknown;
      try {
        verifyWebhookSignature({ ...signed, ...changes });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UnauthorizedError);
      expect((caught as UnauthorizedError).constraint.field).toBe(field);
    };
    refuse({ rawBody: '{"webhookId":"y"}' }, 'signature');
    refuse({ signature: webhookSignature('another-secret', timestamp, rawBody) }, 'signature');
    refuse({ signature: `sha256=${'0'.repeat(64)}` }, 'signature');
    refuse({ signature: 'sha256=short' }, 'signature');
    refuse({ signature: undefined }, 'signature');
    refuse({ timestamp: undefined }, 'timestamp');
    refuse({ timestamp: 'noon' }, 'timestamp');
    refuse({ secrets: [] }, 'signature');
  });

  it('accepts any of the valid secrets, so a secret is rotated without a gap', () => {
    const rotated = { ...signed, secrets: ['the-new-secret-of-enough-length', secret] };
    expect(() => verifyWebhookSignature(rotated)).not.toThrow();
    const signedWithNew = webhookSignature('the-new-secret-of-enough-length', timestamp, rawBody);
    expect(() => verifyWebhookSignature({ ...rotated, signature: signedWithNew })).not.toThrow();
    expect(() => verifyWebhookSignature({ ...signed, signature: signedWithNew })).toThrow(UnauthorizedError);
  });

  it('refuses a stale or future timestamp, also when signed correctly', () => {
    for (const offset of [-301, 301]) {
      const stale = String(now.getTime() / 1000 + offset);
      expect(() =>
        verifyWebhookSignature({
          ...signed,
          timestamp: stale,
          signature: webhookSignature(secret, stale, rawBody),
        }),
      ).toThrow(/more than 300 s/);
    }
    const edge = String(now.getTime() / 1000 - 300);
    expect(() =>
      verifyWebhookSignature({
        ...signed,
        timestamp: edge,
        signature: webhookSignature(secret, edge, rawBody),
      }),
    ).not.toThrow();
  });
});
