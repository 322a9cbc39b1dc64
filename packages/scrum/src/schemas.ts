import { z } from 'zod';

/**
 * The scrum module's zod schemas, shared by its services, the API and the CLI: what callers may send
 * (inputs), what they get back (outputs: plain JSON, ids as numbers, dates as ISO strings) and the events
 * published on SCRUM_NOTIFICATION_CHANNEL and SCRUM_CHAT_CHANNEL.
 */

export const USER_ROLES = ['developer', 'designer', 'tester', 'project_manager', 'admin'] as const;
/** Roles that plan work: they create, assign and see every task, and hear about completions and reports. */
export const MANAGER_ROLES = ['project_manager', 'admin'] as const satisfies readonly UserRole[];
export const TASK_STATUSES = ['todo', 'in_progress', 'done'] as const;
export const NOTIFICATION_TYPES = [
  'task_assigned',
  'task_delayed',
  'task_completed',
  'issue_reported',
  'system',
] as const;
export const MESSAGE_TYPES = ['text', 'system', 'file'] as const;
export const TRIAGE_STATUSES = ['pending', 'in_review', 'resolved', 'rejected'] as const;
export const TRIAGE_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;

export const userRoleSchema = z.enum(USER_ROLES);
export const taskStatusSchema = z.enum(TASK_STATUSES);
export const notificationTypeSchema = z.enum(NOTIFICATION_TYPES);
export const messageTypeSchema = z.enum(MESSAGE_TYPES);
export const triageStatusSchema = z.enum(TRIAGE_STATUSES);
export const triagePrioritySchema = z.enum(TRIAGE_PRIORITIES);
export type UserRole = z.infer<typeof userRoleSchema>;
export type TaskStatus = z.infer<typeof taskStatusSchema>;
export type NotificationType = z.infer<typeof notificationTypeSchema>;
export type MessageType = z.infer<typeof messageTypeSchema>;
export type TriageStatus = z.infer<typeof triageStatusSchema>;
export type TriagePriority = z.infer<typeof triagePrioritySchema>;
