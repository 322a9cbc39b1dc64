import {
  ConflictError,
  type Dictionary,
  type EntityManager,
  insertInChunks,
  reserveIds,
  type SeedContext,
  type SeededRandom,
  Seeder,
  seededRandom,
} from '@huddle/db';
import { ScrumChatMessage } from '../entities/chat-message.ts';
import { ScrumNotification } from '../entities/notification.ts';
import { ScrumTask } from '../entities/task.ts';
import { ScrumTriageItem } from '../entities/triage-item.ts';
import { ScrumUser } from '../entities/user.ts';
import {
  type MessageType,
  NOTIFICATION_TYPES,
  type NotificationType,
  type TaskStatus,
  TRIAGE_PRIORITIES,
  type TriagePriority,
  type TriageStatus,
  type UserRole,
} from '../schemas.ts';

/** Rows per unit of scale. */
export const REALISTIC_PER_SCALE = {
  users: 25,
  tasks: 250,
  notifications: 600,
  chatMessages: 500,
  triageItems: 30,
} as const;

/** A team of 25: mostly developers, with designers, testers, project managers and admins. */
const TEAM_ROLES: readonly UserRole[] = [
  ...Array<UserRole>(12).fill('developer'),
  ...Array<UserRole>(4).fill('designer'),
  ...Array<UserRole>(4).fill('tester'),
  ...Array<UserRole>(3).fill('project_manager'),
  ...Array<UserRole>(2).fill('admin'),
];
/** Every timestamp is an offset from here, so a seed gives the same rows on every run. */
const EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);
/** The day the seeded team "is at": tasks ending before it and not done are delayed. */
const SEEDED_TODAY = EPOCH + 300 * 86_400_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CHANNELS = ['general', 'dev', 'design', 'release', 'random'];
const NAMES = [
  'ada',
  'ben',
  'chloe',
  'dev',
  'elif',
  'femi',
  'greta',
  'hiro',
  'ines',
  'jonas',
  'kira',
  'luis',
];
const VERBS = ['Build', 'Fix', 'Design', 'Test', 'Refactor', 'Document', 'Review', 'Ship'];
const THINGS = [
  'the login page',
  'the task board',
  'notifications',
  'the chat composer',
  'the triage queue',
  'exports',
];
const PROBLEMS = [
  'crashes on save',
  'is slow to load',
  'shows the wrong date',
  'loses my draft',
  'looks broken',
];

/** The GitHub id of realistic user `index`; scale and seed in it keep runs with other seeds from colliding. */
export function realisticGithubId(seed: number, scale: number, index: number): string {
  return `scrum-s${seed}-x${scale}-u${index}`;
}

interface Plan {
  users: {
    githubId: string;
    username: string;
    email: string;
    role: UserRole;
    isActive: boolean;
    createdAt: Date;
  }[];
  tasks: {
    title: string;
    description: string;
    status: TaskStatus;
    assignedRole: UserRole;
    assignedUser: number | null;
    startDate: Date;
    endDate: Date;
    completedAt: Date | null;
    isDelayed: boolean;
    epicId: string;
    storyId: string | null;
    priority: number;
    createdBy: number;
    createdAt: Date;
  }[];
  notifications: {
    user: number;
    type: NotificationType;
    title: string;
    message: string;
    relatedTask: number | null;
    isRead: boolean;
    createdAt: Date;
    readAt: Date | null;
  }[];
  chatMessages: {
    sender: number;
    recipient: number | null;
    channel: string | null;
    message: string;
    messageType: MessageType;
    fileUrl: string | null;
    createdAt: Date;
  }[];
  triageItems: {
    reporter: number;
    title: string;
    description: string;
    status: TriageStatus;
    assignedTo: number | null;
    priority: TriagePriority;
    resolution: string | null;
    resolvedAt: Date | null;
    task: number | null;
    createdAt: Date;
  }[];
}

function otherThan(rng: SeededRandom, count: number, excluded: number): number {
  const pick = rng.integer(0, count - 2);
  return pick >= excluded ? pick + 1 : pick;
}

/** Rows related by index into the plan's arrays (ids exist only once they are reserved). */
function plan(scale: number, seed: number): Plan {
  const rng = seededRandom(seed);
  const at = (offset: number) => new Date(EPOCH + offset);
  const result: Plan = { users: [], tasks: [], notifications: [], chatMessages: [], triageItems: [] };
  const userCount = REALISTIC_PER_SCALE.users * scale;
  const byRole = new Map<UserRole, number[]>();
  for (let index = 0; index < userCount; index++) {
    const role = TEAM_ROLES[index % TEAM_ROLES.length]!;
    byRole.set(role, [...(byRole.get(role) ?? []), index]);
    const name = `${rng.pick(NAMES)}-${index}`;
    result.users.push({
      githubId: realisticGithubId(seed, scale, index),
      username: name,
      email: `${name}.s${seed}@example.test`,
      role,
      isActive: !rng.chance(0.04),
      createdAt: at(rng.integer(0, 20) * DAY),
    });
  }
  const managers = [...(byRole.get('project_manager') ?? []), ...(byRole.get('admin') ?? [])];

  for (let index = 0; index < REALISTIC_PER_SCALE.tasks * scale; index++) {
    const role = rng.pick(['developer', 'developer', 'developer', 'designer', 'tester'] as const);
    const startDate = at(rng.integer(0, 330) * DAY);
    const endDate = new Date(startDate.getTime() + rng.integer(1, 21) * DAY);
    const started = startDate.getTime() < SEEDED_TODAY;
    const status: TaskStatus = !started
      ? 'todo'
      : rng.chance(0.6)
        ? 'done'
        : rng.chance(0.5)
          ? 'in_progress'
          : 'todo';
    const completedAt = status === 'done' ? new Date(startDate.getTime() + rng.integer(1, 25) * DAY) : null;
    result.tasks.push({
      title: `${rng.pick(VERBS)} ${rng.pick(THINGS)}`,
      description: `Part of epic ${index % 12}: agreed in planning.`,
      status,
      assignedRole: role,
      assignedUser: rng.chance(0.8) ? rng.pick(byRole.get(role)!) : null,
      startDate,
      endDate,
      completedAt,
      isDelayed: status !== 'done' && endDate.getTime() <= SEEDED_TODAY,
      epicId: `EPIC-${(index % 12) + 1}`,
      storyId: rng.chance(0.5) ? `STORY-${rng.integer(1, 400)}` : null,
      priority: rng.integer(0, 5),
      createdBy: rng.pick(managers),
      createdAt: new Date(startDate.getTime() - rng.integer(1, 10) * DAY),
    });
  }

  for (let index = 0; index < REALISTIC_PER_SCALE.notifications * scale; index++) {
    const type = rng.pick(NOTIFICATION_TYPES);
    const relatedTask = type.startsWith('task_') ? rng.integer(0, result.tasks.length - 1) : null;
    const createdAt = at(rng.integer(0, 330) * DAY + rng.integer(0, 23) * HOUR);
    const isRead = rng.chance(0.65);
    result.notifications.push({
      user: rng.integer(0, userCount - 1),
      type,
      title:
        relatedTask === null ? 'Heads up' : `${type.replace('_', ' ')}: ${result.tasks[relatedTask]!.title}`,
      message: relatedTask === null ? 'Something needs your attention.' : `About task ${relatedTask}.`,
      relatedTask,
      isRead,
      createdAt,
      readAt: isRead ? new Date(createdAt.getTime() + rng.integer(1, 48) * HOUR) : null,
    });
  }

  const chatCount = REALISTIC_PER_SCALE.chatMessages * scale;
  for (let index = 0; index < chatCount; index++) {
    const sender = rng.integer(0, userCount - 1);
    const direct = rng.chance(0.7);
    const isFile = rng.chance(0.05);
    result.chatMessages.push({
      sender,
      recipient: direct ? otherThan(rng, userCount, sender) : null,
      channel: direct ? null : rng.pick(CHANNELS),
      message: isFile
        ? `notes-${index}.pdf`
        : `${rng.pick(['Morning', 'Quick question', 'Done!', 'Can you look?'])} (${index})`,
      messageType: isFile ? 'file' : 'text',
      fileUrl: isFile ? `https://files.example.test/${seed}/notes-${index}.pdf` : null,
      createdAt: at(Math.floor((index * 330 * DAY) / chatCount)),
    });
  }

  const promotable = result.tasks.map((_, index) => index);
  for (let index = 0; index < REALISTIC_PER_SCALE.triageItems * scale; index++) {
    const status = (['pending', 'in_review', 'resolved', 'rejected'] as const)[index % 4]!;
    const createdAt = at(rng.integer(0, 320) * DAY);
    const closed = status === 'resolved' || status === 'rejected';
    const promoted =
      status === 'resolved' && rng.chance(0.5)
        ? promotable.splice(rng.integer(0, promotable.length - 1), 1)[0]!
        : null;
    result.triageItems.push({
      reporter: rng.integer(0, userCount - 1),
      title: `${rng.pick(THINGS)} ${rng.pick(PROBLEMS)}`,
      description: 'Steps to reproduce are in the thread.',
      status,
      assignedTo: status === 'pending' ? null : rng.pick(managers),
      priority: rng.pick(TRIAGE_PRIORITIES),
      resolution: closed ? 'Handled' : null,
      resolvedAt: closed ? new Date(createdAt.getTime() + rng.integer(1, 10) * DAY) : null,
      task: promoted,
      createdAt,
    });
  }
  return result;
}

/**
 * `scale` × (25 users across every role, 250 tasks across statuses with some overdue and flagged, 600
 * notifications read and unread across months, 500 direct and channel messages, 30 triage items in every
 * state, some promoted to tasks), the same rows for the same `seed`, written with multi-row inserts. A second
 * run with the same seed and scale is refused: its users would already exist.
 */
export class ScrumRealisticSeeder extends Seeder<SeedContext & Dictionary> {
  async run(em: EntityManager, context: SeedContext): Promise<void> {
    const { scale, seed, progress } = context;
    const rows = plan(scale, seed);
    if ((await em.count(ScrumUser, { githubId: rows.users[0]!.githubId })) > 0) {
      throw new ConflictError(
        `seed: scrum already has the realistic data of seed ${seed} at scale ${scale}; use another seed`,
        { field: 'seed' },
      );
    }
    const userIds = await reserveIds(em, 'scrum.users', rows.users.length);
    const taskIds = await reserveIds(em, 'scrum.tasks', rows.tasks.length);
    const user = (index: number) => userIds[index]!;
    const task = (index: number | null) => (index === null ? null : taskIds[index]!);
    await insertInChunks(
      em,
      ScrumUser,
      'scrum.users',
      rows.users.map((row, index) => ({ ...row, id: user(index), updatedAt: row.createdAt })),
      progress,
    );
    await insertInChunks(
      em,
      ScrumTask,
      'scrum.tasks',
      rows.tasks.map((row, index) => ({
        ...row,
        id: taskIds[index]!,
        assignedUser: row.assignedUser === null ? null : user(row.assignedUser),
        createdBy: user(row.createdBy),
        updatedAt: row.completedAt ?? row.createdAt,
      })),
      progress,
    );
    await insertInChunks(
      em,
      ScrumNotification,
      'scrum.notifications',
      rows.notifications.map((row) => ({ ...row, user: user(row.user), relatedTask: task(row.relatedTask) })),
      progress,
    );
    await insertInChunks(
      em,
      ScrumChatMessage,
      'scrum.chat_messages',
      rows.chatMessages.map((row) => ({
        ...row,
        sender: user(row.sender),
        recipient: row.recipient === null ? null : user(row.recipient),
      })),
      progress,
    );
    await insertInChunks(
      em,
      ScrumTriageItem,
      'scrum.triage_items',
      rows.triageItems.map((row) => ({
        ...row,
        reporter: user(row.reporter),
        assignedTo: row.assignedTo === null ? null : user(row.assignedTo),
        task: task(row.task),
        resolution: row.task === null ? row.resolution : `Promoted to task #${task(row.task)}`,
        updatedAt: row.resolvedAt ?? row.createdAt,
      })),
      progress,
    );
  }
}
