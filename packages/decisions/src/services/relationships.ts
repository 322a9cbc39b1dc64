import {
  ConflictError,
  type EntityManager,
  executePrepared,
  isoTimestampSql,
  outputColumnsSql,
  outputObjectSql,
  preparedStatement,
  sqlStringList,
} from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsRelationship } from '../entities/relationship.ts';
import {
  type Anomaly,
  type DecisionIdInput,
  type DecisionSummary,
  RELATIONSHIP_KINDS,
  RELATIONSHIP_LABELS,
  type RelateDecisionsInput,
  type Relationship,
  type RelationshipKind,
  type SupersedeChain,
} from '../schemas.ts';
import { decisionNotFound, requireDecision } from './access.ts';
import { decisionSummaryColumns } from './outputs.ts';

/** The ids of the decisions the decision `?` supersedes (a subquery with one parameter). */
export const supersededTargets = `select to_decision_id from decisions.decision_relationships where from_decision_id = ? and kind = 'supersedes'`;

/** Kinds that may not form a cycle: nothing can (transitively) supersede or depend on itself. */
const ACYCLIC_KINDS: readonly RelationshipKind[] = ['supersedes', 'depends_on'];
/** How far the recursive queries follow links; far beyond any real chain, it bounds a corrupted one. */
const MAX_DEPTH = 10_000;

type RelationshipDirection = Relationship['direction'];

/** `RELATIONSHIP_LABELS` for `direction` as SQL: the label of the relationship row `r`. */
function labelSql(direction: RelationshipDirection): string {
  const cases = RELATIONSHIP_KINDS.map(
    (kind) => `when ${sqlStringList([kind])} then ${sqlStringList([RELATIONSHIP_LABELS[kind][direction]])}`,
  );
  return `case r.kind ${cases.join(' ')} end`;
}

/** The live decisions linked to `decisionId` (an SQL expression) from its side `own` of the link. */
function relationshipSideSql(
  decisionId: string,
  direction: RelationshipDirection,
  own: string,
  other: string,
): string {
  return `select r.id, r.kind, '${direction}' as direction, ${labelSql(direction)} as label, o.id as decision_id,
       o.title, o.status, r.created_by, r.created_at
     from decisions.decision_relationships r join decisions.decisions o on o.id = r.${other}
     where r.${own} = ${decisionId} and o.deleted_at is null`;
}

/**
 * A decision's links in both directions, each read from its side ("supersedes" / "superseded by"), oldest
 * first: a json array of `Relationship`s, for the decision `decisionId` (an SQL expression).
 */
export function relationshipsJsonSql(decisionId: string): string {
  const relationship = outputObjectSql<Relationship>({
    id: 'x.id',
    kind: 'x.kind',
    direction: 'x.direction',
    label: 'x.label',
    decisionId: 'x.decision_id',
    title: 'x.title',
    status: 'x.status',
    createdBy: 'x.created_by',
    createdAt: isoTimestampSql('x.created_at'),
  });
  return `coalesce((select json_agg(${relationship} order by x.created_at, x.id)
     from (${relationshipSideSql(decisionId, 'outgoing', 'from_decision_id', 'to_decision_id')}
           union all
           ${relationshipSideSql(decisionId, 'incoming', 'to_decision_id', 'from_decision_id')}) x), '[]')`;
}

/** `readRelationships`' statement: `$1` the decision. */
const relationshipsStatement = preparedStatement<{ relationships: Relationship[] }>(
  'decisions.relationships',
  `select ${relationshipsJsonSql('$1::int')} as relationships`,
);

/** A decision's links in both directions (`relationshipsJsonSql`). */
async function readRelationships(em: EntityManager, decisionId: number): Promise<Relationship[]> {
  const [row] = await executePrepared(em, relationshipsStatement, [decisionId]);
  return row!.relationships;
}

/**
 * Records a `contradicts` anomaly on both sides of every `conflicts_with` link between `decisionId` and
 * another accepted decision, when both are accepted. Idempotent: an anomaly already recorded is not added.
 */
export async function markConflicts(em: EntityManager, decisionId: number): Promise<void> {
  const pairs: { a: number; b: number }[] = await em.execute(
    `select r.from_decision_id as a, r.to_decision_id as b
     from decisions.decision_relationships r
     join decisions.decisions f on f.id = r.from_decision_id and f.status = 'accepted' and f.deleted_at is null
     join decisions.decisions t on t.id = r.to_decision_id and t.status = 'accepted' and t.deleted_at is null
     where r.kind = 'conflicts_with' and (r.from_decision_id = ? or r.to_decision_id = ?)`,
    [decisionId, decisionId],
  );
  for (const { a, b } of pairs) {
    for (const [on, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const anomaly = JSON.stringify([{ kind: 'contradicts', decisionId: other } satisfies Anomaly]);
      await em.execute(
        `update decisions.decisions set anomalies = anomalies || ?::jsonb
         where id = ? and not anomalies @> ?::jsonb`,
        [anomaly, on, anomaly],
      );
    }
  }
}

/**
 * Links two decisions of one project (member of it). The database refuses self-links and duplicates; this
 * refuses a duplicate first, naming the field, and a `supersedes` or `depends_on` link that would close a cycle (links of one project are added one
 * at a time, under an advisory lock, so two links closing a cycle together cannot both pass the check). A
 * `supersedes` from an accepted decision supersedes its target at once; `conflicts_with` between two
 * accepted decisions is recorded as an anomaly on both.
 */
export async function relateDecisions(
  em: EntityManager,
  actor: DecisionsActor,
  input: RelateDecisionsInput,
): Promise<Relationship> {
  const { fromDecisionId, toDecisionId, kind } = input;
  const { decision: from } = await requireDecision(em, actor, fromDecisionId, 'member', {
    field: 'fromDecisionId',
  });
  const { decision: to } = await requireDecision(em, actor, toDecisionId, 'viewer', {
    field: 'toDecisionId',
  });
  if (from.project.id !== to.project.id) {
    throw new ConflictError('toDecisionId: related decisions must be in the same project', {
      field: 'toDecisionId',
    });
  }
  await em.execute('select pg_advisory_xact_lock(hashtext(?))', [
    `decisions.relationships:${from.project.id}`,
  ]);
  const [existing] = await em.execute(
    'select 1 from decisions.decision_relationships where from_decision_id = ? and to_decision_id = ? and kind = ?',
    [fromDecisionId, toDecisionId, kind],
  );
  if (existing) {
    throw new ConflictError(
      `toDecisionId: decision ${fromDecisionId} already ${RELATIONSHIP_LABELS[kind].outgoing} decision ${toDecisionId}`,
      { field: 'toDecisionId' },
    );
  }
  if (ACYCLIC_KINDS.includes(kind)) {
    const reaches: unknown[] = await em.execute(
      `with recursive reachable(id, depth) as (
         select ?::int, 0
         union
         select r.to_decision_id, reachable.depth + 1 from decisions.decision_relationships r
         join reachable on r.from_decision_id = reachable.id
         where r.kind = ? and reachable.depth < ${MAX_DEPTH})
       select 1 from reachable where id = ? limit 1`,
      [toDecisionId, kind, fromDecisionId],
    );
    if (reaches.length > 0) {
      throw new ConflictError(
        `toDecisionId: decision ${toDecisionId} already ${RELATIONSHIP_LABELS[kind].outgoing} decision ${fromDecisionId} (directly or through others); the link would close a cycle`,
        { field: 'toDecisionId' },
      );
    }
  }
  const relationship = em.create(DecisionsRelationship, {
    fromDecision: fromDecisionId,
    toDecision: toDecisionId,
    kind,
    createdBy: actor.userId,
  });
  await em.flush();
  if (kind === 'supersedes' && from.status === 'accepted') {
    await em.execute(
      `update decisions.decisions set status = 'superseded' where id = ? and status in ('accepted', 'deprecated')`,
      [toDecisionId],
    );
  }
  if (kind === 'conflicts_with') await markConflicts(em, fromDecisionId);
  const [read] = (await readRelationships(em, fromDecisionId)).filter((row) => row.id === relationship.id);
  return read!;
}

/** `supersedeChain`'s statement: `$1` the decision; its chain oldest first. */
const supersedeChainStatement = preparedStatement<DecisionSummary>(
  'decisions.supersede_chain',
  `with recursive older(id, depth) as (
     select $1::int, 0
     union
     select r.to_decision_id, older.depth - 1 from decisions.decision_relationships r
     join older on r.from_decision_id = older.id where r.kind = 'supersedes' and older.depth > -${MAX_DEPTH}),
   newer(id, depth) as (
     select $1::int, 0
     union
     select r.from_decision_id, newer.depth + 1 from decisions.decision_relationships r
     join newer on r.to_decision_id = newer.id where r.kind = 'supersedes' and newer.depth < ${MAX_DEPTH})
   select ${outputColumnsSql(decisionSummaryColumns('d'))}
   from (select id, min(depth) as depth from (select * from older union all select * from newer) steps group by id) chain
   join decisions.decisions d on d.id = chain.id
   where d.deleted_at is null or d.id = $1
   order by chain.depth, d.id`,
);

/**
 * The supersede chain through a decision: back to its origin (which supersedes nothing) and forward to the
 * current decision (superseded by nothing), oldest first, in one recursive query. Deleted decisions are
 * left out of the list (the chain still runs through them).
 */
export async function supersedeChain(
  em: EntityManager,
  actor: DecisionsActor,
  input: DecisionIdInput,
): Promise<SupersedeChain> {
  const { decisionId } = input;
  await requireDecision(em, actor, decisionId, 'viewer');
  const chain = await executePrepared(em, supersedeChainStatement, [decisionId]);
  if (chain.length === 0) throw decisionNotFound(decisionId);
  return { chain, position: chain.findIndex((decision) => decision.id === decisionId) };
}
