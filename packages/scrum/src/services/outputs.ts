import { isoTimestampSql, outputColumnsSql } from '@huddle/db';
import type { ScrumNotification } from '../entities/notification.ts';
import { type ScrumTask, TASK_CHANGE_COLUMNS } from '../entities/task.ts';
import type { ScrumTriageItem } from '../entities/triage-item.ts';
import type { ScrumUser } from '../entities/user.ts';
import type {
  ChatMessage,
  CurrentUser,
  Invitation,
  Notification,
  Task,
  TaskChange,
  TeamMember,
  TriageItem,
} from '../schemas.ts';

/**
 * The plain, serialisable shapes of schemas.ts that services return: from entities (`toTask`, …), or — on hot
 * paths, where hydrating entities only to map them again is the cost — rendered by the database as a select
 * or `returning` list (`taskColumnsSql`, …) whose rows already are the output.
 */

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

/** Never the email: a teammate's address is theirs. */
export function toTeamMember(user: ScrumUser): TeamMember {
  return {
    id: user.id,
    username: user.username,
    avatarUrl: user.avatarUrl ?? null,
    role: user.role,
    isActive: user.isActive,
  };
}

/** A `TeamMember` from the scrum.users row aliased `u`. */
export function teamMemberColumnsSql(u: string): string {
  return outputColumnsSql<TeamMember>({
    id: `${u}.id`,
    username: `${u}.username`,
    avatarUrl: `${u}.avatar_url`,
    role: `${u}.role`,
    isActive: `${u}.is_active`,
  });
}

/** A `CurrentUser` from the scrum.users row aliased `u`: the caller's own row, email included. */
export function currentUserColumnsSql(u: string): string {
  return `${teamMemberColumnsSql(u)}, ${outputColumnsSql<Omit<CurrentUser, keyof TeamMember>>({
    githubId: `${u}.github_id`,
    email: `${u}.email`,
    createdAt: isoTimestampSql(`${u}.created_at`),
  })}`;
}

export function toCurrentUser(user: ScrumUser): CurrentUser {
  return {
    ...toTeamMember(user),
    githubId: user.githubId,
    email: user.email ?? null,
    createdAt: user.createdAt.toISOString(),
  };
}

/**
 * Whether a task is delayed is decided when it is read: its end date has passed and it is not done
 * (`isDelayedSql` in statements). The stored `is_delayed` flag is the `detect-delays` job's record of which
 * delays it has notified, not the answer.
 */
function isDelayed(task: ScrumTask): boolean {
  return task.status !== 'done' && task.endDate.getTime() <= Date.now();
}

/** `isDelayed` of the scrum.tasks row aliased `t`, at the statement's time. */
const isDelayedSql = (t: string) => `(${t}.status <> 'done' and ${t}.end_date <= now())`;

export function toTask(task: ScrumTask): Task {
  return {
    id: task.id,
    title: task.title,
    description: task.description,
    status: task.status,
    assignedRole: task.assignedRole,
    assignedUserId: task.assignedUser?.id ?? null,
    startDate: task.startDate.toISOString(),
    endDate: task.endDate.toISOString(),
    completedAt: iso(task.completedAt),
    isDelayed: isDelayed(task),
    epicId: task.epicId ?? null,
    storyId: task.storyId ?? null,
    priority: task.priority,
    createdById: task.createdBy?.id ?? null,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
  };
}

/** A `Task` from the scrum.tasks row aliased `t`. */
export function taskColumnsSql(t: string): string {
  return outputColumnsSql<Task>({
    id: `${t}.id`,
    title: `${t}.title`,
    description: `${t}.description`,
    status: `${t}.status`,
    assignedRole: `${t}.assigned_role`,
    assignedUserId: `${t}.assigned_user_id`,
    startDate: isoTimestampSql(`${t}.start_date`),
    endDate: isoTimestampSql(`${t}.end_date`),
    completedAt: isoTimestampSql(`${t}.completed_at`),
    isDelayed: isDelayedSql(t),
    epicId: `${t}.epic_id`,
    storyId: `${t}.story_id`,
    priority: `${t}.priority`,
    createdById: `${t}.created_by_id`,
    createdAt: isoTimestampSql(`${t}.created_at`),
    updatedAt: isoTimestampSql(`${t}.updated_at`),
  });
}

/** A `TaskChange` from the scrum.task_activity row aliased `a` (its `field` is a column name). */
export function taskChangeColumnsSql(a: string): string {
  const fieldOfColumn = Object.entries(TASK_CHANGE_COLUMNS)
    .map(([field, column]) => `when '${column}' then '${field}'`)
    .join(' ');
  return outputColumnsSql<TaskChange>({
    id: `${a}.id`,
    taskId: `${a}.task_id`,
    actorId: `${a}.actor_id`,
    field: `case ${a}.field ${fieldOfColumn} end`,
    oldValue: `${a}.old_value`,
    newValue: `${a}.new_value`,
    changedAt: isoTimestampSql(`${a}.changed_at`),
  });
}

/** A `Notification` from the scrum.notifications row aliased `n`. */
export function notificationColumnsSql(n: string): string {
  return outputColumnsSql<Notification>({
    id: `${n}.id`,
    userId: `${n}.user_id`,
    type: `${n}.type`,
    title: `${n}.title`,
    message: `${n}.message`,
    relatedTaskId: `${n}.related_task_id`,
    isRead: `${n}.is_read`,
    createdAt: isoTimestampSql(`${n}.created_at`),
    readAt: isoTimestampSql(`${n}.read_at`),
  });
}

export function toNotification(notification: ScrumNotification): Notification {
  return {
    id: notification.id,
    userId: notification.user.id,
    type: notification.type,
    title: notification.title,
    message: notification.message,
    relatedTaskId: notification.relatedTask?.id ?? null,
    isRead: notification.isRead,
    createdAt: notification.createdAt.toISOString(),
    readAt: iso(notification.readAt),
  };
}

/** A `ChatMessage` from the scrum.chat_messages row aliased `m`. */
export function chatMessageColumnsSql(m: string): string {
  return outputColumnsSql<ChatMessage>({
    id: `${m}.id`,
    senderId: `${m}.sender_id`,
    recipientId: `${m}.recipient_id`,
    // A direct message belongs to no channel, whatever the column's seed default left there.
    channel: `case when ${m}.recipient_id is null then ${m}.channel end`,
    message: `${m}.message`,
    messageType: `${m}.message_type`,
    fileUrl: `${m}.file_url`,
    isEdited: `${m}.is_edited`,
    editedAt: isoTimestampSql(`${m}.edited_at`),
    createdAt: isoTimestampSql(`${m}.created_at`),
  });
}

/** A `TriageItem` from the scrum.triage_items row aliased `i`. */
export function triageItemColumnsSql(i: string): string {
  return outputColumnsSql<TriageItem>({
    id: `${i}.id`,
    reporterId: `${i}.reporter_id`,
    title: `${i}.title`,
    description: `${i}.description`,
    status: `${i}.status`,
    assignedTo: `${i}.assigned_to`,
    priority: `${i}.priority`,
    category: `${i}.category`,
    resolution: `${i}.resolution`,
    resolvedAt: isoTimestampSql(`${i}.resolved_at`),
    taskId: `${i}.task_id`,
    createdAt: isoTimestampSql(`${i}.created_at`),
    updatedAt: isoTimestampSql(`${i}.updated_at`),
  });
}

export function toTriageItem(item: ScrumTriageItem): TriageItem {
  return {
    id: item.id,
    reporterId: item.reporter.id,
    title: item.title,
    description: item.description,
    status: item.status,
    assignedTo: item.assignedTo?.id ?? null,
    priority: item.priority,
    category: item.category,
    resolution: item.resolution ?? null,
    resolvedAt: iso(item.resolvedAt),
    taskId: item.task?.id ?? null,
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
  };
}

/** An `Invitation` from the scrum.invitations row aliased `i`. */
export function invitationColumnsSql(i: string): string {
  return outputColumnsSql<Invitation>({
    id: `${i}.id`,
    githubLogin: `${i}.github_login`,
    role: `${i}.role`,
    invitedById: `${i}.invited_by_id`,
    createdAt: isoTimestampSql(`${i}.created_at`),
    acceptedAt: isoTimestampSql(`${i}.accepted_at`),
    userId: `${i}.user_id`,
  });
}
