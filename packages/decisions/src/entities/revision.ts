import { createdAt, defineEntity, p, READ_ONLY_ROLE } from '@huddle/db';
import { DECISIONS_REQUEST_ROLE } from '../request-role.ts';
import type { DecisionVersion } from '../schemas.ts';
import { DecisionsDecision } from './decision.ts';
import { DecisionsUser } from './user.ts';

/**
 * The acting user's id, as `decisionsActor.load.settings` sets it for a request; null outside one (an
 * operator's command). A scalar subquery, so PostgreSQL reads it once per statement; written the way
 * PostgreSQL prints it back, so `migrationCheck` sees no drift.
 */
export const actingUserIdSql = `(select nullif(current_setting('app.user_id', true), '')::integer as user_id)`;

/**
 * decisions.decision_revisions: the version of a decision before each change of its recorded fields, with
 * who changed it (null: an operator's command, or a user deleted since) and when. Only the
 * `record_revision` trigger on decisions.decisions writes it (its function runs as the owner); requests may
 * only read, and row-level security shows them the revisions of decisions in their projects.
 */
const DecisionsRevisionSchema = defineEntity({
  name: 'DecisionsRevision',
  tableName: 'decision_revisions',
  properties: {
    id: p.integer().primary().autoincrement(),
    // The unique (decision_id, revision) leads with decision_id, so it also covers this foreign key.
    decision: () => p.manyToOne(DecisionsDecision).ref().deleteRule('cascade'),
    /** 1 for the first change of a decision, then 2, 3…: one decision's changes are serialised by its row lock. */
    revision: p.integer(),
    changedBy: () =>
      p
        .manyToOne(DecisionsUser)
        .ref()
        .fieldName('changed_by')
        .nullable()
        .deleteRule('set null')
        .index('idx_decision_revisions_changed_by'),
    changedAt: createdAt(),
    /** The names (as in `decisionSchema`) of the fields this change changed, sorted. */
    changedFields: p.json<string[]>().columnType('jsonb'),
    /** The decision's recorded fields before the change. */
    previous: p.json<DecisionVersion>().columnType('jsonb'),
  },
  uniques: [{ name: 'decision_revisions_decision_revision_unique', properties: ['decision', 'revision'] }],
  checks: [
    { name: 'decision_revisions_revision_check', expression: 'revision >= 1' },
    {
      name: 'decision_revisions_changed_fields_check',
      expression: "jsonb_typeof(changed_fields) = 'array' and jsonb_array_length(changed_fields) > 0",
    },
    { name: 'decision_revisions_previous_check', expression: "jsonb_typeof(previous) = 'object'" },
  ],
  rowLevelSecurity: true,
  policies: [
    {
      name: 'decision_revisions_members_select',
      command: 'select',
      roles: [DECISIONS_REQUEST_ROLE],
      using: `exists (select 1 from decisions.decisions d join decisions.project_members m on m.project_id = d.project_id where d.id = decision_revisions.decision_id and m.user_id = ${actingUserIdSql})`,
    },
    {
      name: 'decision_revisions_read_only_select',
      command: 'select',
      roles: [READ_ONLY_ROLE],
      using: 'true',
    },
  ],
});
export class DecisionsRevision extends DecisionsRevisionSchema.class {}
DecisionsRevisionSchema.setClass(DecisionsRevision);
