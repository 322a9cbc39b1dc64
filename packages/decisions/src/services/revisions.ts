import { type EntityManager, isoTimestampSql } from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import type { ListRevisionsInput, Revision, RevisionPage } from '../schemas.ts';
import { requireDecision } from './access.ts';

/**
 * A decision's history, latest change first, a page at a time (viewer): each revision is the decision as it
 * was before one change, with the fields the change changed, who made it and when. The record_revision
 * trigger writes them; row-level security shows them to members of the decision's project only.
 */
export async function listRevisions(
  em: EntityManager,
  actor: DecisionsActor,
  input: ListRevisionsInput,
): Promise<RevisionPage> {
  const { decisionId, limit, cursor } = input;
  await requireDecision(em, actor, decisionId, 'viewer');
  const rows: { revision: Revision }[] = await em.execute(
    `select json_build_object('decisionId', r.decision_id, 'revision', r.revision, 'changedBy', r.changed_by,
       'changedByName', u.name, 'changedAt', ${isoTimestampSql('r.changed_at')},
       'changedFields', r.changed_fields, 'previous', r.previous) as revision
     from decisions.decision_revisions r left join decisions.users u on u.id = r.changed_by
     where r.decision_id = ?${cursor ? ' and r.revision < ?' : ''}
     order by r.revision desc limit ?`,
    [decisionId, ...(cursor ?? []), limit + 1],
  );
  return toPage(
    rows,
    limit,
    (row) => row.revision,
    (row) => [row.revision.revision],
  );
}
