import {
  checkIn,
  defineEntity,
  isoTimestampSql,
  p,
  readOnlySelectAll,
  timestamps,
  timestamptz,
  touchUpdatedAt,
} from '@huddle/db';
import type { TriggerDef } from '@mikro-orm/core';
import {
  TASK_STATUSES,
  type TaskChangeField,
  type TaskStatus,
  USER_ROLES,
  type UserRole,
} from '../schemas.ts';
import { appRole, appUserId, isManager, requestPolicy } from './policies.ts';
import { ScrumUser } from './user.ts';

/** Who may see a task: its role, its assignee, its creator, and the managers (who plan all work). */
const taskVisible = `assigned_role = ${appRole} or assigned_user_id = ${appUserId} or created_by_id = ${appUserId} or ${isManager}`;
/** Who may change a task: the managers, its assignee, and anyone of its role while nobody is assigned. */
const taskWritable = `${isManager} or assigned_user_id = ${appUserId} or (assigned_user_id is null and assigned_role = ${appRole})`;

/** The column of each field a task's history tracks (scrum.task_activity's `field`). */
export const TASK_CHANGE_COLUMNS: Readonly<Record<TaskChangeField, string>> = {
  status: 'status',
  assignedRole: 'assigned_role',
  assignedUserId: 'assigned_user_id',
  startDate: 'start_date',
  endDate: 'end_date',
};
const DATE_COLUMNS: readonly string[] = [TASK_CHANGE_COLUMNS.startDate, TASK_CHANGE_COLUMNS.endDate];

/** A tracked column of the `old` or `new` row as the JSON its history keeps (timestamps as ISO text). */
const trackedValueSql = (row: 'old' | 'new', column: string) =>
  `to_jsonb(${DATE_COLUMNS.includes(column) ? isoTimestampSql(`${row}.${column}`) : `${row}.${column}`})`;

/**
 * Writes a task's history (scrum.task_activity): after every update, one row per tracked column whose value
 * changed, by the request's user (`app.user_id`; none for an operator or a job). In the database, so no
 * writer can skip it; its function runs as its owner (`security definer`, set in the migration), so requests
 * need no privilege to write history, and have none.
 */
const recordActivity: TriggerDef = {
  name: 'record_activity',
  timing: 'after',
  events: ['update'],
  body: `insert into scrum.task_activity (task_id, actor_id, field, old_value, new_value)
    select new.id, nullif(current_setting('app.user_id', true), '')::integer, change.field, change.old_value, change.new_value
    from (values ${Object.values(TASK_CHANGE_COLUMNS)
      .map((column) => `('${column}', ${trackedValueSql('old', column)}, ${trackedValueSql('new', column)})`)
      .join(', ')}) as change (field, old_value, new_value)
    where change.old_value is distinct from change.new_value; return null;`,
};

/** scrum.tasks: work assigned to a role and optionally a person, with its timeline and delay flag. */
const ScrumTaskSchema = defineEntity({
  name: 'ScrumTask',
  tableName: 'tasks',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(200),
    description: p.text(),
    status: p.string().length(20).$type<TaskStatus>().default('todo').index('idx_tasks_status'),
    assignedRole: p.string().length(50).$type<UserRole>(),
    assignedUser: () =>
      p
        .manyToOne(ScrumUser)
        .ref()
        .nullable()
        .updateRule('cascade')
        .deleteRule('restrict')
        .index('idx_tasks_assigned_user'),
    startDate: timestamptz(),
    endDate: timestamptz(),
    completedAt: timestamptz().nullable(),
    isDelayed: p.boolean().default(false),
    epicId: p.string().length(50).nullable().index('idx_tasks_epic'),
    storyId: p.string().length(50).nullable(),
    priority: p.integer().default(0),
    /** Beyond the seed: who created the task, told when it is completed. */
    createdBy: () =>
      p
        .manyToOne(ScrumUser)
        .ref()
        .nullable()
        .updateRule('cascade')
        .deleteRule('restrict')
        .index('tasks_created_by_id_index'),
    ...timestamps(),
  },
  indexes: [
    { name: 'idx_tasks_role_status', properties: ['assignedRole', 'status'] },
    { name: 'idx_tasks_dates', properties: ['startDate', 'endDate'] },
    { name: 'idx_tasks_delayed', properties: ['isDelayed'], where: 'is_delayed = true' },
    // Beyond the seed: the delayed list as it is read (end date passed, not done), most overdue first.
    { name: 'tasks_end_date_id_index', properties: ['endDate', 'id'], where: "status <> 'done'" },
    // The seed's query "a user's tasks with a status, by priority desc then start date" in one index scan.
    {
      name: 'idx_tasks_user_status',
      expression:
        'create index "idx_tasks_user_status" on "scrum"."tasks" ("assigned_user_id", "status", "priority" desc, "start_date")',
    },
  ],
  checks: [
    checkIn('valid_status', 'status', TASK_STATUSES),
    { name: 'tasks_date_order', expression: 'end_date > start_date' },
    checkIn('tasks_assigned_role_check', 'assigned_role', USER_ROLES),
    { name: 'tasks_completed_at_check', expression: "(status = 'done') = (completed_at is not null)" },
  ],
  triggers: [touchUpdatedAt, recordActivity],
  policies: [
    requestPolicy('tasks_select', 'select', { using: taskVisible }),
    // Only managers create tasks, in their own name.
    requestPolicy('tasks_insert', 'insert', { check: `${isManager} and created_by_id = ${appUserId}` }),
    requestPolicy('tasks_update', 'update', { using: taskWritable, check: taskWritable }),
    readOnlySelectAll('tasks'),
  ],
});
export class ScrumTask extends ScrumTaskSchema.class {}
ScrumTaskSchema.setClass(ScrumTask);
