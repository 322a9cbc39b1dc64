import {
  ConflictError,
  type EntityManager,
  executePrepared,
  ForbiddenError,
  flushAndReload,
  keysetTimestampSql,
  preparedStatement,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { ScrumActor } from '../actor.ts';
import { ScrumTask } from '../entities/task.ts';
import { ScrumTriageItem } from '../entities/triage-item.ts';
import { ScrumUser } from '../entities/user.ts';
import {
  type AssignTriageItemInput,
  type ChangeTriageStatusInput,
  type ListTriageItemsInput,
  MANAGER_ROLES,
  type PromotedTriageItem,
  type PromoteTriageItemInput,
  type ReportIssueInput,
  type TriageItem,
  type TriageItemIdInput,
  type TriageItemPage,
  type TriageStatus,
} from '../schemas.ts';
import { activeUserIdsWithRoles, isManager, notFound, requireActiveUser, requireManager } from './access.ts';
import { notify } from './notify.ts';
import { toTask, toTriageItem, triageItemColumnsSql } from './outputs.ts';
import { insertTask } from './tasks.ts';

/** pending → in_review → resolved | rejected; promoting to a task resolves from pending or in_review. */
const NEXT_STATUSES: Record<TriageStatus, readonly TriageStatus[]> = {
  pending: ['in_review'],
  in_review: ['resolved', 'rejected'],
  resolved: [],
  rejected: [],
};

async function findItem(em: EntityManager, itemId: number): Promise<ScrumTriageItem> {
  const item = await em.findOne(ScrumTriageItem, itemId);
  if (!item) throw notFound('itemId', 'triage item', itemId);
  return item;
}

/** Reports an issue (anyone); project managers and admins are notified (`issue_reported`). */
export async function reportIssue(
  em: EntityManager,
  actor: ScrumActor,
  input: ReportIssueInput,
): Promise<TriageItem> {
  const item = em.create(ScrumTriageItem, { ...input, reporter: actor.userId });
  await em.flush();
  await notify(em, await activeUserIdsWithRoles(em, MANAGER_ROLES, actor.userId), {
    type: 'issue_reported',
    title: `Issue reported: ${item.title}`,
    message: `Triage item #${item.id} (${item.priority}) needs review.`,
    relatedTaskId: null,
  });
  return toTriageItem(await flushAndReload(em, item));
}

/** Gives an item to someone to work on, or takes it back (null). */
export async function assignTriageItem(
  em: EntityManager,
  actor: ScrumActor,
  input: AssignTriageItemInput,
): Promise<TriageItem> {
  const { itemId, assigneeId } = input;
  requireManager(actor, 'assign triage items', 'itemId');
  const item = await findItem(em, itemId);
  if (assigneeId !== null) await requireActiveUser(em, assigneeId, 'assigneeId');
  item.assignedTo = assigneeId === null ? null : em.getReference(ScrumUser, assigneeId, { wrapped: true });
  return toTriageItem(await flushAndReload(em, item));
}

function requireTransition(item: ScrumTriageItem, to: TriageStatus): void {
  const current: TriageStatus = item.status;
  const allowed = NEXT_STATUSES[current];
  if (!allowed.includes(to)) {
    throw new ConflictError(
      `status: triage item ${item.id} is ${item.status}; it can move to ${allowed.length > 0 ? allowed.join(' or ') : 'nothing (closed)'}, not ${to}`,
      { field: 'status' },
    );
  }
}

/** Moves an item on: to review, or closed (resolved or rejected) with its resolution. */
export async function changeTriageStatus(
  em: EntityManager,
  actor: ScrumActor,
  input: ChangeTriageStatusInput,
): Promise<TriageItem> {
  const { itemId, status, resolution } = input;
  const item = await findItem(em, itemId);
  if (!isManager(actor.role) && item.assignedTo?.id !== actor.userId) {
    throw new ForbiddenError(`itemId: only managers and its assignee may move triage item ${itemId}`, {
      field: 'itemId',
    });
  }
  requireTransition(item, status);
  item.status = status;
  if (status !== 'in_review') {
    item.resolution = resolution ?? null;
    item.resolvedAt = new Date();
  }
  return toTriageItem(await flushAndReload(em, item));
}

/**
 * Turns an open item into a task (managers): the task takes the item's title and description, the item is
 * resolved and points at the task, and the task's assignee is notified.
 */
export async function promoteTriageItem(
  em: EntityManager,
  actor: ScrumActor,
  input: PromoteTriageItemInput,
): Promise<PromotedTriageItem> {
  const { itemId, ...taskFields } = input;
  requireManager(actor, 'promote triage items to tasks', 'itemId');
  const item = await findItem(em, itemId);
  if (item.status === 'resolved' || item.status === 'rejected') {
    throw new ConflictError(`itemId: triage item ${itemId} is already ${item.status}`, { field: 'itemId' });
  }
  const task = await insertTask(em, actor, {
    ...taskFields,
    title: item.title,
    description: item.description,
  });
  item.task = em.getReference(ScrumTask, task.id, { wrapped: true });
  item.status = 'resolved';
  item.resolution = `Promoted to task #${task.id}`;
  item.resolvedAt = new Date();
  const saved = toTriageItem(await flushAndReload(em, item));
  return { item: saved, task: toTask(await em.refreshOrFail(task)) };
}

/**
 * `listTriageItems`' statement: `$1` the status (null: any), `$2` the page size and one, `$3`–`$4` the
 * cursor's creation time and id (null: first page).
 */
const triageItemsStatement = preparedStatement<TriageItem & { cursorCreatedAt: string }>(
  'scrum.triage_items_page',
  `select ${triageItemColumnsSql('i')}, ${keysetTimestampSql('i.created_at')} as "cursorCreatedAt"
   from scrum.triage_items i
   where ($1::text is null or i.status = $1::text)
     and ($3::timestamptz is null or (i.created_at, i.id) < ($3::timestamptz, $4::int))
   order by i.created_at desc, i.id desc limit $2`,
);

/**
 * The triage items the actor may see (reported, assigned, or all for managers: row-level security), newest
 * first, a page at a time.
 */
export async function listTriageItems(
  em: EntityManager,
  _actor: ScrumActor,
  input: ListTriageItemsInput,
): Promise<TriageItemPage> {
  const { status, limit, cursor } = input;
  const rows = await executePrepared(em, triageItemsStatement, [
    status ?? null,
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
  return toPage(
    rows,
    limit,
    ({ cursorCreatedAt: _, ...item }) => item,
    (row) => [row.cursorCreatedAt, row.id],
  );
}

/** `getTriageItem`'s statement: `$1` the item (row-level security decides who sees it). */
const triageItemStatement = preparedStatement<TriageItem>(
  'scrum.triage_item',
  `select ${triageItemColumnsSql('i')} from scrum.triage_items i where i.id = $1`,
);

export async function getTriageItem(
  em: EntityManager,
  _actor: ScrumActor,
  input: TriageItemIdInput,
): Promise<TriageItem> {
  const { itemId } = input;
  const [item] = await executePrepared(em, triageItemStatement, [itemId]);
  if (!item) throw notFound('itemId', 'triage item', itemId);
  return item;
}
