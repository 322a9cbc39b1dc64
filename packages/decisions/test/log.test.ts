import { ForbiddenError, NotFoundError } from '@huddle/db';
import { itRefusesEach, sqlProbe, useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAdr } from '../src/adr/markdown.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { DECISIONS_REQUEST_ROLE } from '../src/request-role.ts';
import { newProject, newProjectCast, type ProjectCast } from './fixtures.ts';
import { asActor, call, callStepped, expectHuddleError, useSqlClient } from './helpers.ts';

/** The decision log's export and import (ADR files), full-text search fused with similarity, and revisions. */
const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
const { decisions, adr } = decisionsOperations;
let cast: ProjectCast;
const ids: Record<string, number> = {};
const probe = sqlProbe(postgres, ids);

async function newDecision(projectId: number, title: string, statement: string, rationale?: string) {
  return call(test.db, cast.member, decisions.create, {
    projectId,
    title,
    statement,
    rationale,
    confidence: 0.8,
  });
}

beforeAll(async () => {
  cast = await newProjectCast(test.db);
  ids.decision = (await newDecision(cast.projectId, 'Base', 'A decision to revise.')).id;
});

describe('revisions', () => {
  it('keep the version before every edit, transition and link, with who and when, latest first and paged', async () => {
    const first = await newDecision(cast.projectId, 'Adopt Kafka', 'We will adopt Kafka for the event bus.');
    const successor = await newDecision(cast.projectId, 'Adopt Pulsar', 'We will adopt Pulsar instead.');
    await call(test.db, cast.member, decisions.edit, { decisionId: first.id, title: 'Adopt Kafka now' });
    await call(test.db, cast.owner, decisions.transition, { decisionId: first.id, status: 'accepted' });
    await call(test.db, cast.member, decisions.relate, {
      fromDecisionId: successor.id,
      toDecisionId: first.id,
      kind: 'supersedes',
    });
    await call(test.db, cast.member, decisions.transition, { decisionId: successor.id, status: 'accepted' });

    const page = await call(test.db, cast.viewer, decisions.revisions, { decisionId: first.id, limit: 2 });
    expect(
      page.items.map(({ revision, changedFields, changedBy }) => ({ revision, changedFields, changedBy })),
    ).toEqual([
      { revision: 3, changedFields: ['status'], changedBy: cast.member.userId },
      { revision: 2, changedFields: ['status'], changedBy: cast.owner.userId },
    ]);
    expect(page.items[0]!.previous.status).toBe('accepted');
    expect(page.items[1]!.changedByName).toBe('Olga Owner');
    const rest = await call(test.db, cast.viewer, decisions.revisions, {
      decisionId: first.id,
      cursor: page.nextCursor!,
    });
    expect(rest).toMatchObject({ nextCursor: null, items: [{ revision: 1, changedFields: ['title'] }] });
    expect(rest.items[0]!.previous).toMatchObject({
      title: 'Adopt Kafka',
      status: 'proposed',
      deletedAt: null,
    });
    // Every path records: a raw update by the owner (no acting user) as well.
    await postgres.client.query(`update decisions.decisions set rationale = 'Replay.' where id = $1`, [
      first.id,
    ]);
    const rows = await postgres.client.query(
      'select revision, changed_by, changed_fields from decisions.decision_revisions where decision_id = $1 order by revision',
      [first.id],
    );
    expect(rows.rows.at(-1)).toEqual({ revision: 4, changed_by: null, changed_fields: ['rationale'] });
  });

  it('record nothing for a change of the embedding only', async () => {
    const before = await probe.count('decisions.decision_revisions where decision_id = $1', [ids.decision]);
    await postgres.client.query('update decisions.decisions set embedding = null where id = $1', [
      ids.decision,
    ]);
    expect(await probe.count('decisions.decision_revisions where decision_id = $1', [ids.decision])).toBe(
      before,
    );
  });

  it('are read by members only: a stranger is told the decision does not exist', async () => {
    const error = await expectHuddleError(
      call(test.db, cast.stranger, decisions.revisions, { decisionId: ids.decision! }),
      NotFoundError,
    );
    expect(error.message).toMatch(/^decisionId: /);
  });
});

describe('decision_revisions in the database', () => {
  beforeAll(async () => {
    await call(test.db, cast.member, decisions.edit, {
      decisionId: ids.decision!,
      statement: 'Revised once.',
    });
    ids.user = cast.member.userId;
  });

  itRefusesEach(probe, [
    {
      rule: 'revision numbers start at 1 (decision_revisions_revision_check)',
      sql: `insert into decisions.decision_revisions (decision_id, revision, changed_fields, previous) values ({decision}, 0, '["title"]', '{}')`,
      code: '23514',
      constraint: 'decision_revisions_revision_check',
    },
    {
      rule: 'a revision changes at least one field (decision_revisions_changed_fields_check)',
      sql: `insert into decisions.decision_revisions (decision_id, revision, changed_fields, previous) values ({decision}, 9, '[]', '{}')`,
      code: '23514',
      constraint: 'decision_revisions_changed_fields_check',
    },
    {
      rule: 'one revision number per decision (decision_revisions_decision_revision_unique)',
      sql: `insert into decisions.decision_revisions (decision_id, revision, changed_fields, previous) values ({decision}, 1, '["title"]', '{}')`,
      code: '23505',
      constraint: 'decision_revisions_decision_revision_unique',
    },
    {
      rule: 'a revision of an existing decision (decision_revisions_decision_id_foreign)',
      sql: `insert into decisions.decision_revisions (decision_id, revision, changed_fields, previous) values (2147483647, 1, '["title"]', '{}')`,
      code: '23503',
      constraint: 'decision_revisions_decision_id_foreign',
    },
  ]);

  /** Runs `sql` as the decisions request role acting for `userId`, as a request does; rolled back. */
  async function asRequest<T>(userId: number, sql: string): Promise<T[]> {
    await postgres.client.query('begin');
    try {
      await postgres.client.query(
        `select set_config('role', $1, true), set_config('app.user_id', $2, true)`,
        [DECISIONS_REQUEST_ROLE, String(userId)],
      );
      return (await postgres.client.query(probe.withIds(sql))).rows as T[];
    } finally {
      await postgres.client.query('rollback');
    }
  }

  it('refuses a request that writes, rewrites or erases history (only the trigger writes it)', async () => {
    for (const sql of [
      `insert into decisions.decision_revisions (decision_id, revision, changed_fields, previous) values ({decision}, 99, '["title"]', '{}')`,
      `update decisions.decision_revisions set previous = '{}' where decision_id = {decision}`,
      'delete from decisions.decision_revisions where decision_id = {decision}',
    ]) {
      await expect(asRequest(cast.member.userId, sql)).rejects.toMatchObject({ code: '42501' });
    }
  });

  it('shows a request only the revisions of its user’s projects (row-level security)', async () => {
    const sql = 'select revision from decisions.decision_revisions where decision_id = {decision}';
    expect((await asRequest(cast.viewer.userId, sql)).length).toBeGreaterThan(0);
    expect(await asRequest(cast.stranger.userId, sql)).toEqual([]);
  });

  it('a service acting for a stranger reads none either', async () => {
    const rows = await asActor(test.db, cast.stranger, (em) =>
      em.execute('select 1 from decisions.decision_revisions where decision_id = ?', [ids.decision]),
    );
    expect(rows).toEqual([]);
  });
});

describe('search', () => {
  let projectId: number;
  beforeAll(async () => {
    projectId = await newProject(test.db, cast.owner, { members: [cast.member], viewers: [cast.viewer] });
    const made = [
      await newDecision(
        projectId,
        'Adopt Kafka for events',
        'We adopt Kafka as the event bus.',
        'We need replay.',
      ),
      await newDecision(projectId, 'Use PostgreSQL', 'The primary database is PostgreSQL.'),
      await newDecision(
        projectId,
        'Weekly releases',
        'We release every Tuesday.',
        'Replaying incidents showed big releases hurt.',
      ),
      await newDecision(projectId, 'Hidden', 'Deleted: Kafka replay everywhere.'),
    ];
    await call(test.db, cast.member, decisions.delete, { decisionId: made[3]!.id });
    // A project the viewer is not in: its Kafka decision never shows.
    const other = await newProject(test.db, cast.stranger);
    await call(test.db, cast.stranger, decisions.create, {
      projectId: other,
      title: 'Kafka elsewhere',
      statement: 'Kafka replays.',
      confidence: 0.5,
    });
  });

  it('ranks word matches (stemmed, over title, statement and rationale) with meaning, in the caller’s projects', async () => {
    const page = await call(test.db, cast.viewer, decisionsOperations.search, { text: 'replays', projectId });
    const titles = page.items.map((item) => item.title);
    expect(titles.slice(0, 2).toSorted()).toEqual(['Adopt Kafka for events', 'Weekly releases']);
    expect(page.items[0]).toMatchObject({ textRank: 1 });
    expect(titles).not.toContain('Hidden');
    const everywhere = await call(test.db, cast.viewer, decisionsOperations.search, { text: 'kafka' });
    expect(everywhere.items.map((item) => item.title)).not.toContain('Kafka elsewhere');
    // The cast's project (the viewer's too) has a Kafka decision of its own.
    expect(
      everywhere.items
        .slice(0, 2)
        .map((item) => item.title)
        .toSorted(),
    ).toEqual(['Adopt Kafka for events', 'Adopt Kafka now']);
  });

  it('pages through the fused ranking without repeating or skipping', async () => {
    const all = await call(test.db, cast.viewer, decisionsOperations.search, {
      text: 'kafka database',
      limit: 200,
    });
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(test.db, cast.viewer, decisionsOperations.search, {
        text: 'kafka database',
        limit: 2,
        ...(cursor && { cursor }),
      });
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all.items.map((item) => item.id));
  });

  it('refuses a project the caller is not in, naming the field', async () => {
    const error = await expectHuddleError(
      call(test.db, cast.stranger, decisionsOperations.search, { text: 'kafka', projectId }),
      NotFoundError,
    );
    expect(error.message).toMatch(/^projectId: /);
  });
});

describe('ADR export and import', () => {
  it('round-trips a project without loss: fields, statuses, links and anomalies', async () => {
    const source = await newProject(test.db, cast.owner, { members: [cast.member] });
    const old = await call(test.db, cast.member, decisions.create, {
      projectId: source,
      title: 'Use RabbitMQ',
      statement: 'Queues on RabbitMQ.\n## not a heading\n\\# kept',
      rationale: 'Simple to run.',
      confidence: 0.75,
      decidedAt: '2026-01-05T10:30:00.123Z',
      impacts: [{ area: 'ops', note: 'One broker.' }],
      consensus: { for: ['Ann', 'Bob'], against: ['Cy'], abstain: [] },
    });
    await call(test.db, cast.member, decisions.transition, { decisionId: old.id, status: 'accepted' });
    const next = await newDecision(source, 'Use Kafka', 'Events on Kafka.');
    await call(test.db, cast.member, decisions.relate, {
      fromDecisionId: next.id,
      toDecisionId: old.id,
      kind: 'supersedes',
    });
    await call(test.db, cast.member, decisions.transition, { decisionId: next.id, status: 'accepted' });
    const rival = await newDecision(source, 'Use NATS', 'Events on NATS.');
    await call(test.db, cast.member, decisions.relate, {
      fromDecisionId: rival.id,
      toDecisionId: next.id,
      kind: 'conflicts_with',
    });
    await call(test.db, cast.member, decisions.transition, { decisionId: rival.id, status: 'accepted' });

    const exported = await call(test.db, cast.member, adr.export, { projectId: source });
    expect(exported.nextCursor).toBeNull();
    expect(exported.items.map((file) => file.path)).toEqual([
      `${String(old.id).padStart(4, '0')}-use-rabbitmq.md`,
      `${String(next.id).padStart(4, '0')}-use-kafka.md`,
      `${String(rival.id).padStart(4, '0')}-use-nats.md`,
    ]);
    expect(exported.items[0]!.content).toContain('status: superseded');
    expect(exported.items[0]!.content).toContain('superseded-by:');

    const target = await newProject(test.db, cast.owner, { members: [cast.member] });
    const report = await callStepped(test.db, cast.member, adr.import, {
      projectId: target,
      files: exported.items,
    });
    expect(report).toMatchObject({ imported: 3, skipped: 0 });
    expect(report.files.flatMap((file) => file.notes)).toEqual([]);
    const again = await call(test.db, cast.member, adr.export, { projectId: target });
    const strip = (content: string) => content.replace(/\d{4,}-/g, 'N-');
    expect(again.items.map((file) => strip(file.content))).toEqual(
      exported.items.map((file) => strip(file.content)),
    );
    const imported = await call(test.db, cast.member, decisions.get, {
      decisionId: report.files[0]!.decisionId!,
    });
    expect(imported).toMatchObject({
      title: 'Use RabbitMQ',
      statement: 'Queues on RabbitMQ.\n## not a heading\n\\# kept',
      rationale: 'Simple to run.',
      status: 'superseded',
      confidence: 0.75,
      decidedAt: '2026-01-05T10:30:00.123Z',
      impacts: [{ area: 'ops', note: 'One broker.' }],
      consensus: { for: ['Ann', 'Bob'], against: ['Cy'], abstain: [] },
      relationships: [{ label: 'superseded by', title: 'Use Kafka' }],
    });
    // Importing the same folder again adds nothing.
    const repeat = await callStepped(test.db, cast.member, adr.import, {
      projectId: target,
      files: exported.items,
    });
    expect(repeat).toMatchObject({ imported: 0, skipped: 3 });
    expect(repeat.files[0]!.reason).toMatch(
      /^\d{4}-use-rabbitmq\.md: title: decision \d+ of project \d+ already has this title$/,
    );
  });

  it('imports log4brains and adr-tools folders, skipping what is not a decision with the file and field', async () => {
    const projectId = await newProject(test.db, cast.owner, { members: [cast.member] });
    const files = [
      {
        path: 'docs/adr/0001-record-architecture-decisions.md',
        content:
          '# 1. Record architecture decisions\n\nDate: 2016-02-12\n\n## Status\n\nAccepted\n\nSuperseded by [2. Use MADR](0002-use-madr.md)\n\n## Context\n\nWe need to record decisions.\n\n## Decision\n\nWe will use ADRs.\n\n## Consequences\n\nSee Nygard.\n',
      },
      {
        path: 'docs/adr/0002-use-madr.md',
        content:
          '# Use MADR\n\n- Status: accepted\n- Deciders: Ann, Bob\n- Date: 2020-09-23\n- Tags: doc\n\n## Context and Problem Statement\n\nWhich format?\n\n## Decision Outcome\n\nChosen option: "MADR", because it is lean.\n',
      },
      { path: 'docs/adr/index.md', content: '# Architecture knowledge base\n' },
      { path: 'docs/adr/0003-no-decision.md', content: '# Something\n\n## Context\n\nNo outcome yet.\n' },
      { path: 'docs/adr/0004-bad-status.md', content: '---\nstatus: maybe\n---\n# X\n\n## Decision\n\nY.\n' },
      { path: 'docs/adr/notes.txt', content: 'not markdown' },
      { path: 'docs/adr/0005-use-madr-again.md', content: '# Use MADR\n\n## Decision\n\nAgain.\n' },
    ];
    const report = await callStepped(test.db, cast.member, adr.import, { projectId, files });
    expect(report.files.map(({ outcome, reason }) => ({ outcome, reason }))).toEqual([
      { outcome: 'imported', reason: null },
      { outcome: 'imported', reason: null },
      {
        outcome: 'skipped',
        reason: 'docs/adr/index.md: path: the folder’s index, template or readme, not a decision',
      },
      {
        outcome: 'skipped',
        reason:
          'docs/adr/0003-no-decision.md: statement: no "## Decision Outcome" or "## Decision" section with text',
      },
      {
        outcome: 'skipped',
        reason:
          'docs/adr/0004-bad-status.md: status: "maybe" is not one of proposed, accepted, rejected, deprecated, superseded (or draft)',
      },
      { outcome: 'skipped', reason: 'docs/adr/notes.txt: path: not a Markdown (.md) file' },
      {
        outcome: 'skipped',
        reason:
          'docs/adr/0005-use-madr-again.md: title: docs/adr/0002-use-madr.md of this import already has this title',
      },
    ]);
    expect(report.files[0]!.notes).toEqual(['sections not imported (no field holds them): Consequences']);
    const first = await call(test.db, cast.member, decisions.get, {
      decisionId: report.files[0]!.decisionId!,
    });
    expect(first).toMatchObject({
      title: 'Record architecture decisions',
      statement: 'We will use ADRs.',
      rationale: 'We need to record decisions.',
      status: 'accepted',
      decidedAt: '2016-02-12T00:00:00.000Z',
      relationships: [{ label: 'superseded by', title: 'Use MADR' }],
    });
    const second = await call(test.db, cast.member, decisions.get, {
      decisionId: report.files[1]!.decisionId!,
    });
    expect(second.consensus.for).toEqual(['Ann', 'Bob']);
  });

  it('refuses a viewer’s import and changes nothing', async () => {
    const before = await probe.count('decisions.decisions');
    const error = await expectHuddleError(
      callStepped(test.db, cast.viewer, adr.import, {
        projectId: cast.projectId,
        files: [{ path: 'a.md', content: '# A\n\n## Decision\n\nB.\n' }],
      }),
      ForbiddenError,
    );
    expect(error.message).toMatch(/^projectId: /);
    expect(await probe.count('decisions.decisions')).toBe(before);
  });

  it('reads MADR 4 front matter (decision-makers, "superseded by ADR-0002")', () => {
    const { record } = parseAdr(
      '---\nstatus: "superseded by ADR-0002"\ndate: 2024-05-01\ndecision-makers: [Ann]\n---\n\n# Use X\n\n## Decision Outcome\n\nChosen option: "X".\n',
    );
    expect(record).toMatchObject({
      status: 'superseded',
      consensus: { for: ['Ann'] },
      links: [{ kind: 'supersedes', outgoing: false, target: 'ADR-0002' }],
    });
  });
});
