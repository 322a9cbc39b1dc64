import {
  checkIn,
  defineEntity,
  p,
  readOnlySelectAll,
  timestamps,
  timestamptz,
  touchUpdatedAt,
} from '@huddle/db';
import { TRIAGE_PRIORITIES, TRIAGE_STATUSES, type TriagePriority, type TriageStatus } from '../schemas.ts';
import { appUserId, isManager, requestPolicy } from './policies.ts';
import { ScrumTask } from './task.ts';
import { ScrumUser } from './user.ts';

/** Who works an item: the managers and its assignee. */
const triageWorker = `${isManager} or assigned_to = ${appUserId}`;

/** scrum.triage_items: reported issues, reviewed and resolved or rejected, or promoted to a task. */
const ScrumTriageItemSchema = defineEntity({
  name: 'ScrumTriageItem',
  tableName: 'triage_items',
  properties: {
    id: p.integer().primary().autoincrement(),
    reporter: () =>
      p.manyToOne(ScrumUser).ref().updateRule('cascade').deleteRule('restrict').index('idx_triage_reporter'),
    title: p.string().length(200),
    description: p.text(),
    status: p.string().length(20).$type<TriageStatus>().default('pending').index('idx_triage_status'),
    assignedTo: () =>
      p
        .manyToOne(ScrumUser)
        .ref()
        .nullable()
        .fieldName('assigned_to')
        .updateRule('cascade')
        .deleteRule('restrict')
        .index('idx_triage_assigned'),
    priority: p.string().length(10).$type<TriagePriority>().default('medium').index('idx_triage_priority'),
    category: p.string().length(50).default('issue'),
    resolution: p.text().nullable(),
    resolvedAt: timestamptz().nullable(),
    /** Beyond the seed: the task this item was promoted to (at most one item per task). */
    task: () =>
      p
        .manyToOne(ScrumTask)
        .ref()
        .nullable()
        .updateRule('cascade')
        .deleteRule('restrict')
        .unique('triage_items_task_id_unique'),
    ...timestamps(),
  },
  indexes: [{ name: 'idx_triage_created', properties: ['createdAt'] }],
  checks: [
    checkIn('triage_items_status_check', 'status', TRIAGE_STATUSES),
    checkIn('triage_items_priority_check', 'priority', TRIAGE_PRIORITIES),
    {
      name: 'triage_items_resolution_check',
      expression:
        "status in ('pending', 'in_review') or (resolution is not null and resolved_at is not null)",
    },
  ],
  triggers: [touchUpdatedAt],
  policies: [
    // An item is its reporter's, its assignee's and the managers'.
    requestPolicy('triage_items_select', 'select', {
      using: `reporter_id = ${appUserId} or ${triageWorker}`,
    }),
    requestPolicy('triage_items_insert', 'insert', { check: `reporter_id = ${appUserId}` }),
    requestPolicy('triage_items_update', 'update', { using: triageWorker, check: triageWorker }),
    readOnlySelectAll('triage_items'),
  ],
});
export class ScrumTriageItem extends ScrumTriageItemSchema.class {}
ScrumTriageItemSchema.setClass(ScrumTriageItem);
