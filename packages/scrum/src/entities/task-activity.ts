import { checkIn, createdAt, defineEntity, p, readOnlySelectAll } from '@huddle/db';
import { requestPolicy } from './policies.ts';
import { ScrumTask, TASK_CHANGE_COLUMNS } from './task.ts';
import { ScrumUser } from './user.ts';

/**
 * scrum.task_activity (beyond the seed): a task's history, one row per changed field of TASK_CHANGE_COLUMNS,
 * with its value before and after (JSON: text, a user id, or an ISO timestamp), who changed it and when. Only
 * the tasks' `record_activity` trigger writes it, so every writer (service, job, operator) leaves its trace
 * and no request can write or rewrite one (requests may only read).
 */
const ScrumTaskActivitySchema = defineEntity({
  name: 'ScrumTaskActivity',
  tableName: 'task_activity',
  properties: {
    id: p.integer().primary().autoincrement(),
    task: () => p.manyToOne(ScrumTask).ref().updateRule('cascade').deleteRule('restrict'),
    /** The request's user (`app.user_id`); null when no user acted (an operator, a job). */
    actor: () =>
      p
        .manyToOne(ScrumUser)
        .ref()
        .nullable()
        .updateRule('cascade')
        .deleteRule('restrict')
        .index('task_activity_actor_id_index'),
    field: p.string().length(30),
    oldValue: p.json<unknown>().columnType('jsonb').nullable(),
    newValue: p.json<unknown>().columnType('jsonb').nullable(),
    changedAt: createdAt(),
  },
  indexes: [
    // A task's history, newest first, page by page (and the task_id foreign key's index).
    {
      name: 'task_activity_task_id_changed_at_index',
      expression:
        'create index "task_activity_task_id_changed_at_index" on "scrum"."task_activity" ("task_id", "changed_at" desc, "id" desc)',
    },
  ],
  checks: [checkIn('task_activity_field_check', 'field', Object.values(TASK_CHANGE_COLUMNS))],
  policies: [
    // Whoever sees the task (its own policy decides, inside this one) sees its history.
    requestPolicy('task_activity_select', 'select', {
      using: 'exists (select 1 from scrum.tasks t where t.id = task_activity.task_id)',
    }),
    readOnlySelectAll('task_activity'),
  ],
});
export class ScrumTaskActivity extends ScrumTaskActivitySchema.class {}
ScrumTaskActivitySchema.setClass(ScrumTaskActivity);
