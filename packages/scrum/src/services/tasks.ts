import {
  type EntityManager,
  executePrepared,
  ForbiddenError,
  flushAndReload,
  InvalidInputError,
  keysetTimestampSql,
  preparedStatement,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { ScrumActor } from '../actor.ts';
import { ScrumTask } from '../entities/task.ts';
import { ScrumUser } from '../entities/user.ts';
import type {
  AssignTaskInput,
  ChangeTaskStatusInput,
  CreateTaskInput,
  ListDelayedTasksInput,
  ListEpicTasksInput,
  ListMyTasksInput,
  ListTasksByRoleInput,
  Task,
  TaskIdInput,
  TaskPage,
  TaskStatus,
  UpdateTaskInput,
} from '../schemas.ts';
import { activeUserIdsWithRoles, isVisible, notFound, requireActiveUser, requireManager } from './access.ts';
import { notify } from './notify.ts';
import { taskColumnsSql, toTask } from './outputs.ts';

const taskNotFound = (taskId: number) => notFound('taskId', 'task', taskId);

async function findTask(em: EntityManager, taskId: number): Promise<ScrumTask> {
  const task = await em.findOne(ScrumTask, taskId);
  if (!task) throw taskNotFound(taskId);
  return task;
}

/** Tells a new assignee about their task. */
function notifyAssigned(em: EntityManager, task: { id: number; title: string }, userId: number) {
  return notify(em, [userId], {
    type: 'task_assigned',
    title: `Task assigned: ${task.title}`,
    message: `You were assigned task #${task.id}, "${task.title}".`,
    relatedTaskId: task.id,
  });
}

/** Writes a new task row created by the actor (a manager), telling its assignee. */
export async function insertTask(
  em: EntityManager,
  actor: ScrumActor,
  fields: CreateTaskInput,
): Promise<ScrumTask> {
  const { assignedUserId, ...rest } = fields;
  if (assignedUserId) await requireActiveUser(em, assignedUserId, 'assignedUserId');
  const task = em.create(ScrumTask, {
    ...rest,
    assignedUser: assignedUserId ?? null,
    createdBy: actor.userId,
  });
  await em.flush();
  if (assignedUserId) await notifyAssigned(em, task, assignedUserId);
  return task;
}

/** Creates a task (project managers and admins), assigned to a role and optionally a person. */
export async function createTask(
  em: EntityManager,
  actor: ScrumActor,
  input: CreateTaskInput,
): Promise<Task> {
  requireManager(actor, 'create tasks', 'assignedRole');
  return toTask(await insertTask(em, actor, input));
}

/** (Re)assigns a task to a role and optionally a person, who is notified (`task_assigned`). */
export async function assignTask(
  em: EntityManager,
  actor: ScrumActor,
  input: AssignTaskInput,
): Promise<Task> {
  const { taskId, assignedRole, assignedUserId } = input;
  requireManager(actor, 'assign tasks', 'taskId');
  const task = await findTask(em, taskId);
  if (assignedUserId !== null) await requireActiveUser(em, assignedUserId, 'assignedUserId');
  const previousAssignee = task.assignedUser?.id ?? null;
  task.assignedRole = assignedRole;
  task.assignedUser =
    assignedUserId === null ? null : em.getReference(ScrumUser, assignedUserId, { wrapped: true });
  const saved = toTask(await flushAndReload(em, task));
  if (assignedUserId !== null && assignedUserId !== previousAssignee) {
    await notifyAssigned(em, task, assignedUserId);
  }
  return saved;
}

/** Changes a task's fields (project managers and admins). */
export async function updateTask(
  em: EntityManager,
  actor: ScrumActor,
  input: UpdateTaskInput,
): Promise<Task> {
  const { taskId, ...changes } = input;
  requireManager(actor, 'edit tasks', 'taskId');
  const task = await findTask(em, taskId);
  const startDate = changes.startDate ?? task.startDate;
  const endDate = changes.endDate ?? task.endDate;
  if (endDate <= startDate) {
    throw new InvalidInputError(`endDate: must be after startDate (${startDate.toISOString()})`, {
      field: 'endDate',
    });
  }
  em.assign(task, changes);
  return toTask(await flushAndReload(em, task));
}

/**
 * Moves a task to `status` — a hot path, so native statements: one `update` (locking the row and returning
 * its previous status, and the task as the answer, no entity hydrated) sets or clears `completed_at` and
 * clears the delay flag on `done`; only a move into `done` adds the `task_completed` notification to the
 * creator (or, without one, the project managers), never to the actor. Row-level security decides who may:
 * managers, the assignee, and anyone of the task's role while it is unassigned.
 */
export async function changeTaskStatus(
  em: EntityManager,
  actor: ScrumActor,
  input: ChangeTaskStatusInput,
): Promise<Task> {
  const { taskId, status } = input;
  const [row]: (Task & { previousStatus: TaskStatus })[] = await em.execute(
    `with previous as (select id, status from scrum.tasks where id = ? for update)
     update scrum.tasks t set status = ?,
       completed_at = case when ? = 'done' then coalesce(t.completed_at, now()) end,
       is_delayed = t.is_delayed and ? <> 'done'
     from previous where t.id = previous.id
     returning ${taskColumnsSql('t')}, previous.status as "previousStatus"`,
    [taskId, status, status, status],
  );
  if (!row) {
    if (await isVisible(em, 'tasks', taskId)) {
      throw new ForbiddenError(
        `taskId: only managers, the assignee, or the task's role while it is unassigned may change task ${taskId}`,
        { field: 'taskId' },
      );
    }
    throw taskNotFound(taskId);
  }
  const { previousStatus, ...task } = row;
  if (status === 'done' && previousStatus !== 'done') {
    const creator = task.createdById;
    const recipients =
      creator !== null
        ? [creator].filter((id) => id !== actor.userId)
        : await activeUserIdsWithRoles(em, ['project_manager'], actor.userId);
    await notify(em, recipients, {
      type: 'task_completed',
      title: `Task completed: ${task.title}`,
      message: `Task #${task.id}, "${task.title}", is done.`,
      relatedTaskId: task.id,
    });
  }
  return task;
}

export async function getTask(em: EntityManager, _actor: ScrumActor, input: TaskIdInput): Promise<Task> {
  const { taskId } = input;
  return toTask(await findTask(em, taskId));
}

/**
 * Every task list's order: priority (highest first), then start date, then id (so that ties have an order a
 * cursor can continue from). Each row also carries its start date with microseconds, for the cursor.
 */
const TASK_ROW_SQL = `${taskColumnsSql('t')}, ${keysetTimestampSql('t.start_date')} as "cursorStartDate"`;
const TASK_ORDER_SQL = 'order by t.priority desc, t.start_date, t.id';
type TaskRow = Task & { cursorStartDate: string };
type TaskCursor = readonly [priority: number, startDate: string, id: number];

/** The rows after `cursor` in TASK_ORDER_SQL's order (all rows on a first page). */
function afterTaskCursorSql(cursor: TaskCursor | undefined): { sql: string; params: unknown[] } {
  if (!cursor) return { sql: 'true', params: [] };
  const [priority, startDate, id] = cursor;
  return {
    sql: '(t.priority < ? or (t.priority = ? and (t.start_date, t.id) > (?::timestamptz, ?)))',
    params: [priority, priority, startDate, id],
  };
}

function toTaskPage(rows: TaskRow[], limit: number): TaskPage {
  return toPage(
    rows,
    limit,
    ({ cursorStartDate: _, ...task }) => task,
    (row) => [row.priority, row.cursorStartDate, row.id],
  );
}

/** One page of the tasks matching `where` (row-level security applies), in TASK_ORDER_SQL's order. */
async function taskPage(
  em: EntityManager,
  where: string,
  params: unknown[],
  { limit, cursor }: { limit: number; cursor?: TaskCursor | undefined },
): Promise<TaskPage> {
  const after = afterTaskCursorSql(cursor);
  const rows = await em.execute<TaskRow[]>(
    `select ${TASK_ROW_SQL} from scrum.tasks t where (${where}) and ${after.sql} ${TASK_ORDER_SQL} limit ?`,
    [...params, ...after.params, limit + 1],
  );
  return toTaskPage(rows, limit);
}

/**
 * `listMyTasks`' statement: `$1` the actor, `$2` the status, `$3` the limit (plus one), `$4`–`$6` the
 * cursor's priority, start date and id (null on a first page).
 */
const myTasksStatement = preparedStatement<TaskRow>(
  'scrum.my_tasks_page',
  `select ${TASK_ROW_SQL} from scrum.tasks t
   where t.assigned_user_id = $1 and t.status = $2
     and ($4::int is null or t.priority < $4
          or (t.priority = $4 and (t.start_date, t.id) > ($5::timestamptz, $6::int)))
   ${TASK_ORDER_SQL} limit $3`,
);

/**
 * The actor's tasks with `status`, a page at a time, by priority (highest first) then start date:
 * idx_tasks_user_status. A hot read, so one prepared statement whose rows are the answer (no entities
 * hydrated); row-level security applies.
 */
export async function listMyTasks(
  em: EntityManager,
  actor: ScrumActor,
  input: ListMyTasksInput,
): Promise<TaskPage> {
  const { status, limit, cursor } = input;
  const rows = await executePrepared(em, myTasksStatement, [
    actor.userId,
    status,
    limit + 1,
    ...(cursor ?? [null, null, null]),
  ]);
  return toTaskPage(rows, limit);
}

/** A role's tasks (optionally with one status), a page at a time; others' roles are invisible. */
export function listTasksByRole(
  em: EntityManager,
  _actor: ScrumActor,
  input: ListTasksByRoleInput,
): Promise<TaskPage> {
  const { role, status, ...page } = input;
  return status === undefined
    ? taskPage(em, 't.assigned_role = ?', [role], page)
    : taskPage(em, 't.assigned_role = ? and t.status = ?', [role, status], page);
}

/** Delayed tasks not done yet, the most overdue first (idx_tasks_delayed), a page at a time. */
export async function listDelayedTasks(
  em: EntityManager,
  _actor: ScrumActor,
  input: ListDelayedTasksInput,
): Promise<TaskPage> {
  const { limit, cursor } = input;
  const rows = await em.execute<(Task & { cursorEndDate: string })[]>(
    `select ${taskColumnsSql('t')}, ${keysetTimestampSql('t.end_date')} as "cursorEndDate" from scrum.tasks t
     where t.is_delayed and t.status <> 'done' ${cursor ? 'and (t.end_date, t.id) > (?::timestamptz, ?)' : ''}
     order by t.end_date, t.id limit ?`,
    [...(cursor ?? []), limit + 1],
  );
  return toPage(
    rows,
    limit,
    ({ cursorEndDate: _, ...task }) => task,
    (row) => [row.cursorEndDate, row.id],
  );
}

/** An epic's tasks (the seed's free-text `epic_id`, idx_tasks_epic), a page at a time. */
export function listEpicTasks(
  em: EntityManager,
  _actor: ScrumActor,
  input: ListEpicTasksInput,
): Promise<TaskPage> {
  const { epicId, ...page } = input;
  return taskPage(em, 't.epic_id = ?', [epicId], page);
}
