import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import type { CreateDecisionInput, Decision } from '../src/schemas.ts';
import type { relateDecisions } from '../src/services/relationships.ts';
import { newProject, newProjectCast } from './fixtures.ts';
import { call, expectHuddleError, useSqlClient } from './helpers.ts';

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

let titleNumber = 0;
function decide(actor: DecisionsActor, fields: Partial<CreateDecisionInput> = {}): Promise<Decision> {
  titleNumber += 1;
  return call(test.db, actor, decisionsOperations.decisions.create, {
    projectId,
    title: `Decision ${titleNumber}`,
    statement: `We will do thing number ${titleNumber}.`,
    confidence: 0.8,
    ...fields,
  });
}
const move = (decisionId: number, status: 'accepted' | 'rejected' | 'deprecated', actor = member) =>
  call(test.db, actor, decisionsOperations.decisions.transition, { decisionId, status });
const relate = (
  fromDecisionId: number,
  toDecisionId: number,
  kind: Parameters<typeof relateDecisions>[2]['kind'],
) => call(test.db, member, decisionsOperations.decisions.relate, { fromDecisionId, toDecisionId, kind });
const statusOf = async (id: number) =>
  (await postgres.client.query('select status from decisions.decisions where id = $1', [id])).rows[0].status;

describe('decisions', () => {
  it('creates a proposed decision with typed impacts and consensus, and its embedding', async () => {
    const decision = await decide(member, {
      title: 'Use PostgreSQL',
      statement: 'We use PostgreSQL for everything.',
      rationale: 'One database to run',
      confidence: 0.95,
      impacts: [{ area: 'ops', note: 'one backup' }],
      consensus: { for: ['Max'], against: ['Ann'], abstain: [] },
    });
    expect(decision).toMatchObject({
      projectId,
      status: 'proposed',
      confidence: 0.95,
      impacts: [{ area: 'ops', note: 'one backup' }],
      consensus: { for: ['Max'], against: ['Ann'], abstain: [] },
      anomalies: [],
      deletedAt: null,
    });
    const { rows } = await postgres.client.query(
      'select vector_dims(embedding) as dims, embedding_model from decisions.decisions where id = $1',
      [decision.id],
    );
    expect(rows[0]).toEqual({ dims: 384, embedding_model: 'hashing-ngrams-v1' });
  });

  it('refuses bad input by field, a viewer’s write and a stranger’s read', async () => {
    const badConfidence = await expectHuddleError(decide(member, { confidence: 1.5 }), InvalidInputError);
    expect(badConfidence.constraint.field).toBe('confidence');
    const badImpact = await expectHuddleError(decide(member, { impacts: [{ area: '' }] }), InvalidInputError);
    expect(badImpact.constraint.field).toBe('impacts.0.area');
    await expectHuddleError(decide(viewer), ForbiddenError);
    const decision = await decide(member);
    await expectHuddleError(
      call(test.db, stranger, decisionsOperations.decisions.get, { decisionId: decision.id }),
      NotFoundError,
    );
    await expectHuddleError(
      call(test.db, stranger, decisionsOperations.decisions.list, { projectId }),
      NotFoundError,
    );
    expect(
      (await call(test.db, viewer, decisionsOperations.decisions.get, { decisionId: decision.id })).id,
    ).toBe(decision.id);
  });

  it('leaves the fields an edit does not name as they are', async () => {
    const decision = await decide(member, {
      impacts: [{ area: 'ops' }],
      consensus: { for: ['Ann'], against: [], abstain: ['Bob'] },
      rationale: 'Because',
    });
    const edited = await call(test.db, member, decisionsOperations.decisions.edit, {
      decisionId: decision.id,
      title: 'Renamed',
    });
    expect(edited).toMatchObject({
      title: 'Renamed',
      statement: decision.statement,
      rationale: 'Because',
      confidence: decision.confidence,
      impacts: [{ area: 'ops' }],
      consensus: { for: ['Ann'], against: [], abstain: ['Bob'] },
      decidedAt: decision.decidedAt,
    });
  });

  it('edits fields and re-embeds a changed statement', async () => {
    const decision = await decide(member);
    const before = (
      await postgres.client.query('select embedding::text as e from decisions.decisions where id = $1', [
        decision.id,
      ])
    ).rows[0].e;
    const edited = await call(test.db, member, decisionsOperations.decisions.edit, {
      decisionId: decision.id,
      statement: 'Something else entirely.',
      confidence: 0.5,
    });
    expect(edited).toMatchObject({
      statement: 'Something else entirely.',
      confidence: 0.5,
      title: decision.title,
    });
    const after = (
      await postgres.client.query('select embedding::text as e from decisions.decisions where id = $1', [
        decision.id,
      ])
    ).rows[0].e;
    expect(after).not.toBe(before);
  });

  it('lists per project by status, latest decided first, leaving deleted ones out until restored', async () => {
    const listProject = await newProject(test.db, owner, { members: [member] });
    const make = (title: string, decidedAt: string) =>
      call(test.db, member, decisionsOperations.decisions.create, {
        projectId: listProject,
        title,
        statement: title,
        confidence: 0.5,
        decidedAt,
      });
    const old = await make('Old', '2026-01-01T00:00:00Z');
    const mid = await make('Mid', '2026-02-01T00:00:00Z');
    const recent = await make('Recent', '2026-03-01T00:00:00Z');
    await move(mid.id, 'accepted');
    const list = (
      input: { status?: 'proposed' | 'accepted'; includeDeleted?: boolean } = {},
      actor = member,
    ) =>
      call(test.db, actor, decisionsOperations.decisions.list, { projectId: listProject, ...input }).then(
        (page) => page.items.map((row) => row.title),
      );
    expect(await list()).toEqual(['Recent', 'Mid', 'Old']);
    expect(await list({ status: 'proposed' })).toEqual(['Recent', 'Old']);
    await call(test.db, member, decisionsOperations.decisions.delete, { decisionId: recent.id });
    expect(await list()).toEqual(['Mid', 'Old']);
    await expectHuddleError(
      call(test.db, member, decisionsOperations.decisions.get, { decisionId: recent.id }),
      NotFoundError,
    );
    await expectHuddleError(list({ includeDeleted: true }), ForbiddenError);
    expect(await list({ includeDeleted: true }, owner)).toEqual(['Recent', 'Mid', 'Old']);
    await call(test.db, member, decisionsOperations.decisions.restore, { decisionId: recent.id });
    expect(await list()).toEqual(['Recent', 'Mid', 'Old']);
    expect(old.status).toBe('proposed');
  });

  it('reads a decision in the list and alone exactly as its last write answered, and pages by limit', async () => {
    const readProject = await newProject(test.db, owner, { members: [member] });
    const transcript = await call(test.db, member, decisionsOperations.transcripts.create, {
      projectId: readProject,
      title: 'Sync',
      meetingAt: '2026-02-20T10:00:00Z',
      content: 'Ann: We decide.',
    });
    const full = await call(test.db, member, decisionsOperations.decisions.create, {
      projectId: readProject,
      transcriptId: transcript.id,
      title: 'Full',
      statement: 'Every field set.',
      rationale: 'Because',
      confidence: 0.95,
      decidedAt: '2026-03-01T12:34:56.789Z',
      impacts: [{ area: 'api', note: 'callers upgrade' }, { area: 'ops' }],
      consensus: { for: ['Ann'], against: ['Bob'], abstain: ['Cy'] },
    });
    // A row as the database's defaults leave it (consensus '{}', no rationale, no transcript).
    const { rows } = await postgres.client.query(
      `insert into decisions.decisions (project_id, title, statement, confidence, decided_at)
       values ($1, 'Bare', 'Defaults only.', 0.5, '2026-01-01T00:00:00.123456Z') returning id`,
      [readProject],
    );
    const accepted = await move(full.id, 'accepted');
    const rejected = await move(rows[0].id, 'rejected');
    expect(rejected).toMatchObject({
      rationale: null,
      transcriptId: null,
      decidedAt: '2026-01-01T00:00:00.123Z',
    });
    expect(rejected.consensus).toEqual({ for: [], against: [], abstain: [] });
    await relate(full.id, rejected.id, 'depends_on');
    const link = (
      await postgres.client.query(
        'select id, created_at from decisions.decision_relationships where from_decision_id = $1',
        [full.id],
      )
    ).rows[0];
    const linked = {
      id: link.id,
      kind: 'depends_on',
      createdBy: member.userId,
      createdAt: link.created_at.toISOString(),
    };

    const list = (limit?: number) =>
      call(test.db, member, decisionsOperations.decisions.list, { projectId: readProject, limit }).then(
        (page) => page.items,
      );
    expect(await list()).toEqual([accepted, rejected]);
    expect(await list(1)).toEqual([accepted]);
    expect(await call(test.db, member, decisionsOperations.decisions.get, { decisionId: full.id })).toEqual({
      ...accepted,
      relationships: [
        {
          ...linked,
          direction: 'outgoing',
          label: 'depends on',
          decisionId: rejected.id,
          title: 'Bare',
          status: 'rejected',
        },
      ],
    });
    expect(
      await call(test.db, member, decisionsOperations.decisions.get, { decisionId: rejected.id }),
    ).toEqual({
      ...rejected,
      relationships: [
        {
          ...linked,
          direction: 'incoming',
          label: 'depended on by',
          decisionId: full.id,
          title: 'Full',
          status: 'accepted',
        },
      ],
    });
    // A deleted decision leaves the other side's relationships.
    await call(test.db, member, decisionsOperations.decisions.delete, { decisionId: rejected.id });
    expect(
      (await call(test.db, member, decisionsOperations.decisions.get, { decisionId: full.id })).relationships,
    ).toEqual([]);
  });
});

describe('lifecycle', () => {
  it('moves proposed → accepted → deprecated, and proposed → rejected', async () => {
    const a = await decide(member);
    expect((await move(a.id, 'accepted')).status).toBe('accepted');
    expect((await move(a.id, 'deprecated')).status).toBe('deprecated');
    const b = await decide(member);
    expect((await move(b.id, 'rejected')).status).toBe('rejected');
  });

  it('refuses other moves, naming the current and the wanted status, and changes nothing', async () => {
    const a = await decide(member);
    await move(a.id, 'rejected');
    const error = await expectHuddleError(move(a.id, 'accepted'), ConflictError);
    expect(error.message).toMatch(/is rejected and cannot become accepted/);
    expect(await statusOf(a.id)).toBe('rejected');
    const b = await decide(member);
    expect((await expectHuddleError(move(b.id, 'deprecated'), ConflictError)).message).toMatch(
      /is proposed and cannot become deprecated/,
    );
    await expectHuddleError(
      call(test.db, member, decisionsOperations.decisions.transition, {
        decisionId: b.id,
        status: 'superseded' as 'accepted',
      }),
      InvalidInputError,
    );
    await expectHuddleError(move(b.id, 'accepted', viewer), ForbiddenError);
  });

  it('lets only one of two concurrent moves of one decision happen (the row is locked)', async () => {
    const decision = await decide(member);
    const results = await Promise.allSettled([
      move(decision.id, 'accepted'),
      move(decision.id, 'rejected', owner),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected');
    expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(ConflictError);
    const winner = results.find((result) => result.status === 'fulfilled');
    expect(await statusOf(decision.id)).toBe(winner?.status === 'fulfilled' && winner.value.status);
  });

  it('supersedes the target when the superseding decision is accepted, in the same transaction', async () => {
    const old = await decide(member);
    await move(old.id, 'accepted');
    const replacement = await decide(member);
    await relate(replacement.id, old.id, 'supersedes');
    expect(await statusOf(old.id)).toBe('accepted');
    await move(replacement.id, 'accepted');
    expect(await statusOf(old.id)).toBe('superseded');
    // An accepted decision superseding another accepted one supersedes it at once.
    const third = await decide(member);
    await move(third.id, 'accepted');
    await relate(third.id, replacement.id, 'supersedes');
    expect(await statusOf(replacement.id)).toBe('superseded');
  });
});

describe('relationships', () => {
  it('lists links in both directions with their natural inverse names', async () => {
    const [a, b, c] = [await decide(member), await decide(member), await decide(member)];
    await relate(a.id, b.id, 'supersedes');
    await relate(c.id, b.id, 'depends_on');
    await relate(c.id, a.id, 'amends');
    const detail = await call(test.db, viewer, decisionsOperations.decisions.get, { decisionId: b.id });
    expect(detail.relationships.map((row) => [row.label, row.decisionId])).toEqual([
      ['superseded by', a.id],
      ['depended on by', c.id],
    ]);
    const ofC = await call(test.db, viewer, decisionsOperations.decisions.get, { decisionId: c.id });
    expect(ofC.relationships.map((row) => [row.label, row.direction])).toEqual([
      ['depends on', 'outgoing'],
      ['amends', 'outgoing'],
    ]);
  });

  // Before: a duplicate was refused by the unique constraint, its message naming the constraint's columns
  // (from_decision_id, to_decision_id, kind) rather than the input's field.
  it('refuses self-links, duplicates (naming toDecisionId) and links across projects', async () => {
    const [a, b] = [await decide(member), await decide(member)];
    await expectHuddleError(relate(a.id, a.id, 'relates_to'), InvalidInputError);
    await relate(a.id, b.id, 'relates_to');
    const duplicate = await expectHuddleError(relate(a.id, b.id, 'relates_to'), ConflictError);
    expect(duplicate.message).toMatch(/^toDecisionId: /);
    await relate(a.id, b.id, 'depends_on');
    const otherProject = await newProject(test.db, owner, { members: [member] });
    const elsewhere = await call(test.db, member, decisionsOperations.decisions.create, {
      projectId: otherProject,
      title: 'Elsewhere',
      statement: 'x',
      confidence: 0.5,
    });
    await expectHuddleError(relate(a.id, elsewhere.id, 'relates_to'), ConflictError);
  });

  it('refuses a supersedes or depends_on link that closes a cycle, directly or through others', async () => {
    const [a, b, c] = [await decide(member), await decide(member), await decide(member)];
    await relate(a.id, b.id, 'depends_on');
    await relate(b.id, c.id, 'depends_on');
    const error = await expectHuddleError(relate(c.id, a.id, 'depends_on'), ConflictError);
    expect(error.message).toMatch(/close a cycle/);
    await expectHuddleError(relate(b.id, a.id, 'depends_on'), ConflictError);
    await relate(a.id, b.id, 'supersedes');
    await expectHuddleError(relate(b.id, a.id, 'supersedes'), ConflictError);
    // Other kinds may point back.
    await relate(c.id, a.id, 'relates_to');
    const { rows } = await postgres.client.query(
      `select count(*)::int as n from decisions.decision_relationships where from_decision_id = any($1)`,
      [[a.id, b.id, c.id]],
    );
    expect(rows[0].n).toBe(4);
  });

  it('gives the supersede chain from the origin to the current decision, from any link in it', async () => {
    const chain = [await decide(member), await decide(member), await decide(member), await decide(member)];
    for (let index = 1; index < chain.length; index++)
      await relate(chain[index]!.id, chain[index - 1]!.id, 'supersedes');
    const expected = chain.map((decision) => decision.id);
    for (const [position, decision] of chain.entries()) {
      const result = await call(test.db, viewer, decisionsOperations.decisions.supersedeChain, {
        decisionId: decision.id,
      });
      expect(result.chain.map((row) => row.id)).toEqual(expected);
      expect(result.position).toBe(position);
    }
    const lone = await decide(member);
    expect(
      (
        await call(test.db, viewer, decisionsOperations.decisions.supersedeChain, { decisionId: lone.id })
      ).chain.map((row) => row.id),
    ).toEqual([lone.id]);
  });

  it('records conflicts_with between two accepted decisions as an anomaly on both', async () => {
    const [a, b] = [await decide(member), await decide(member)];
    await move(a.id, 'accepted');
    await relate(a.id, b.id, 'conflicts_with');
    const anomalies = async (id: number) =>
      (await postgres.client.query('select anomalies from decisions.decisions where id = $1', [id])).rows[0]
        .anomalies;
    expect(await anomalies(a.id)).toEqual([]);
    await move(b.id, 'accepted');
    expect(await anomalies(a.id)).toEqual([{ kind: 'contradicts', decisionId: b.id }]);
    expect(await anomalies(b.id)).toEqual([{ kind: 'contradicts', decisionId: a.id }]);
    const [c, d] = [await decide(member), await decide(member)];
    await move(c.id, 'accepted');
    await move(d.id, 'accepted');
    await relate(d.id, c.id, 'conflicts_with');
    const detail = await call(test.db, viewer, decisionsOperations.decisions.get, { decisionId: c.id });
    expect(detail.anomalies).toEqual([{ kind: 'contradicts', decisionId: d.id }]);
  });
});
