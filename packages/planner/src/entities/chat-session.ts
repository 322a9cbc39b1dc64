import { defineEntity, p, timestamps, touchUpdatedAt } from '@huddle/db';
import { CHAT_SESSION_STATUSES, type StoredChatMessage } from '../schemas.ts';
import { recordOperator } from './operator.ts';
import { PlannerPlan } from './plan.ts';

/** planner.chat_sessions: the conversation that shaped a plan version, its messages one JSONB array. */
const PlannerChatSessionSchema = defineEntity({
  name: 'PlannerChatSession',
  tableName: 'chat_sessions',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    plan: () => p.manyToOne(PlannerPlan).ref().deleteRule('cascade'),
    // Lazy: a session's list entry needs only its length (`messageCount`); pages read slices in SQL.
    messages: p.json<StoredChatMessage[]>().columnType('jsonb').defaultRaw(`'[]'`).lazy(),
    messageCount: p
      .integer()
      .formula((columns) => `jsonb_array_length(${columns.messages})`)
      .persist(false),
    status: p.enum(CHAT_SESSION_STATUSES).nativeEnumName('chat_session_status').default('active'),
    ...timestamps(),
    /** The operator who opened the session, and the one whose request last wrote it (`recordOperator`). */
    createdBy: p.string().length(63).nullable(),
    updatedBy: p.string().length(63).nullable(),
  },
  indexes: [
    { name: 'idx_chat_sessions_plan_status', properties: ['plan', 'status'] },
    { name: 'idx_chat_messages_gin', properties: ['messages'], type: 'gin' },
  ],
  // Appends are `messages || …`, which only keeps an array an array.
  checks: [{ name: 'chat_sessions_messages_array', expression: "jsonb_typeof(messages) = 'array'" }],
  triggers: [touchUpdatedAt, recordOperator({ created: true })],
});
export class PlannerChatSession extends PlannerChatSessionSchema.class {}
PlannerChatSessionSchema.setClass(PlannerChatSession);
