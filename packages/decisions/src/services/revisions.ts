import {
  type EntityManager,
  executePrepared,
  isoTimestampSql,
  outputColumnsSql,
  preparedStatement,
} from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import type { ListRevisionsInput, Revision, RevisionPage } from '../schemas.ts';
import { requireDecision } from './access.ts';

/** `listRevisions`' statement: `$1` the decision, `$2` the page size and one, `$3` the cursor (null: first page). */
const revisionsStatement = preparedStatement<Revision>(
  'decisions.revisions_page',
  `select ${outputColumnsSql<Revision>({
    decisionId: 'r.decision_id',
    revision: 'r.revision',
    changedBy: 'r.changed_by',
    changedByName: 'u.name',
    changedAt: isoTimestampSql('r.changed_at'),
    changedFields: 'r.changed_fields',
    previous: 'r.previous',
  })}
   from decisions.decision_revisions r left join decisions.users u on u.id = r.changed_by
   where r.decision_id = $1 and ($3::int is null or r.revision < $3)
   order by r.revision desc limit $2`,
);

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
  const rows = await executePrepared(em, revisionsStatement, [decisionId, limit + 1, cursor?.[0] ?? null]);
  return rowsToPage(rows, limit, (revision) => [revision.revision]);
}
