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
  TaskChange,
  TaskChangePage,
  TaskHistoryInput,
  TaskIdInput,
  TaskPage,
  TaskStatus,
  UpdateTaskInput,
} from '../schemas.ts';
import { activeUserIdsWithRoles, isVisible, notFound, requireActiveUser, requireManager } from './access.ts';
import { notify } from './notify.ts';
import { taskChangeColumnsSql, taskColumnsSql, toTask } from './outputs.ts';

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

/** `getTask`'s statement: `$1` the task's id (row-level security applies). */
const taskStatement = preparedStatement<Task>(
  'scrum.task',
  `select ${taskColumnsSql('t')} from scrum.tasks t where t.id = $1`,
);

/** One task, rendered by the database (a hot read: one prepared statement, no entity hydrated). */
export async function getTask(em: EntityManager, _actor: ScrumActor, input: TaskIdInput): Promise<Task> {
  const { taskId } = input;
  const [task] = await executePrepared(em, taskStatement, [taskId]);
  if (!task) throw taskNotFound(taskId);
  return task;
}

/**
 * Every task list's order: priority (highest first), then start date, then id (so that ties have an order a
 * cursor can continue from). Each row also carries its start date with microseconds, for the cursor.
 */
const TASK_ROW_SQL = `${taskColumnsSql('t')}, ${keysetTimestampSql('t.start_date')} as "cursorStartDate"`;
type TaskRow = Task & { cursorStartDate: string };
type TaskCursor = readonly [priority: number, startDate: string, id: number];

/**
 * A task list's statement, one page of the tasks matching `where` (row-level security applies) in the lists'
 * order: `$1` the limit (plus one), `$2`–`$4` the cursor's priority, start date and id (null on a first
 * page); `where`'s own parameters from `$5`. Hot reads, so each list is a prepared statement whose rows are
 * the answer.
 */
function taskPageStatement(name: string, where: string) {
  return preparedStatement<TaskRow>(
    name,
    `select ${TASK_ROW_SQL} from scrum.tasks t
     where ${where}
       and ($2::int is null or t.priority < $2
            or (t.priority = $2 and (t.start_date, t.id) > ($3::timestamptz, $4::int)))
     order by t.priority desc, t.start_date, t.id limit $1`,
  );
}

async function taskPage(
  em: EntityManager,
  statement: ReturnType<typeof taskPageStatement>,
  params: unknown[],
  { limit, cursor }: { limit: number; cursor?: TaskCursor | undefined },
): Promise<TaskPage> {
  const rows = await executePrepared(em, statement, [
    limit + 1,
    ...(cursor ?? [null, null, null]),
    ...params,
  ]);
  return toPage(
    rows,
    limit,
    ({ cursorStartDate: _, ...task }) => task,
    (row) => [row.priority, row.cursorStartDate, row.id],
  );
}

/** idx_tasks_user_status: `$5` the actor (and `$6` the status). */
const myTasksStatement = taskPageStatement('scrum.my_tasks_page', 't.assigned_user_id = $5');
const myStatusTasksStatement = taskPageStatement(
  'scrum.my_status_tasks_page',
  't.assigned_user_id = $5 and t.status = $6',
);

/**
 * The actor's tasks (optionally with one status), a page at a time, by priority (highest first) then start
 * date: idx_tasks_user_status.
 */
export function listMyTasks(
  em: EntityManager,
  actor: ScrumActor,
  input: ListMyTasksInput,
): Promise<TaskPage> {
  const { status, ...page } = input;
  return status === undefined
    ? taskPage(em, myTasksStatement, [actor.userId], page)
    : taskPage(em, myStatusTasksStatement, [actor.userId, status], page);
}

/** idx_tasks_role_status: `$5` the role (and `$6` the status). */
const roleTasksStatement = taskPageStatement('scrum.role_tasks_page', 't.assigned_role = $5');
const roleStatusTasksStatement = taskPageStatement(
  'scrum.role_status_tasks_page',
  't.assigned_role = $5 and t.status = $6',
);

/** A role's tasks (optionally with one status), a page at a time; others' roles are invisible. */
export function listTasksByRole(
  em: EntityManager,
  _actor: ScrumActor,
  input: ListTasksByRoleInput,
): Promise<TaskPage> {
  const { role, status, ...page } = input;
  return status === undefined
    ? taskPage(em, roleTasksStatement, [role], page)
    : taskPage(em, roleStatusTasksStatement, [role, status], page);
}

/**
 * `listDelayedTasks`' statement: `$1` the limit (plus one), `$2`–`$3` the cursor's end date and id (null on
 * a first page).
 */
const delayedTasksStatement = preparedStatement<Task & { cursorEndDate: string }>(
  'scrum.delayed_tasks_page',
  `select ${taskColumnsSql('t')}, ${keysetTimestampSql('t.end_date')} as "cursorEndDate" from scrum.tasks t
   where t.status <> 'done' and t.end_date <= now()
     and ($2::timestamptz is null or (t.end_date, t.id) > ($2::timestamptz, $3::int))
   order by t.end_date, t.id limit $1`,
);

/**
 * The tasks delayed now — end date passed, not done — the most overdue first (tasks_end_date_id_index), a page
 * at a time: true when read, whether or not the `detect-delays` job has flagged them yet.
 */
export async function listDelayedTasks(
  em: EntityManager,
  _actor: ScrumActor,
  input: ListDelayedTasksInput,
): Promise<TaskPage> {
  const { limit, cursor } = input;
  const rows = await executePrepared(em, delayedTasksStatement, [limit + 1, ...(cursor ?? [null, null])]);
  return toPage(
    rows,
    limit,
    ({ cursorEndDate: _, ...task }) => task,
    (row) => [row.cursorEndDate, row.id],
  );
}

/** idx_tasks_epic: `$5` the epic. */
const epicTasksStatement = taskPageStatement('scrum.epic_tasks_page', 't.epic_id = $5');

/** An epic's tasks (the seed's free-text `epic_id`, idx_tasks_epic), a page at a time. */
export function listEpicTasks(
  em: EntityManager,
  _actor: ScrumActor,
  input: ListEpicTasksInput,
): Promise<TaskPage> {
  const { epicId, ...page } = input;
  return taskPage(em, epicTasksStatement, [epicId], page);
}

/**
 * `listTaskHistory`'s statement: `$1` the task, `$2` the limit (plus one), `$3`–`$4` the cursor's changed_at
 * and id (null on a first page). Row-level security shows the history of visible tasks only.
 */
const taskHistoryStatement = preparedStatement<TaskChange & { cursorChangedAt: string }>(
  'scrum.task_history_page',
  `select ${taskChangeColumnsSql('a')}, ${keysetTimestampSql('a.changed_at')} as "cursorChangedAt"
   from scrum.task_activity a
   where a.task_id = $1
     and ($3::timestamptz is null or (a.changed_at, a.id) < ($3::timestamptz, $4::int))
   order by a.changed_at desc, a.id desc limit $2`,
);

/**
 * A task's history (status, assignee and date changes: by whom, when, before and after), newest first, a
 * page at a time (task_activity_task_id_changed_at_index). A task the actor cannot see is NotFound.
 */
export async function listTaskHistory(
  em: EntityManager,
  _actor: ScrumActor,
  input: TaskHistoryInput,
): Promise<TaskChangePage> {
  const { taskId, limit, cursor } = input;
  const rows = await executePrepared(em, taskHistoryStatement, [
    taskId,
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
  // No rows: a task without changes (yet), or one the actor may not see.
  if (rows.length === 0 && !(await isVisible(em, 'tasks', taskId))) throw taskNotFound(taskId);
  return toPage(
    rows,
    limit,
    ({ cursorChangedAt: _, ...change }) => change,
    (row) => [row.cursorChangedAt, row.id],
  );
}
