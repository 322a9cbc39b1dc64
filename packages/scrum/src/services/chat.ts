import { type EntityManager, ForbiddenError, parseInput } from '@huddle/db';
import type { ScrumActor } from '../actor.ts';
import { ScrumChatMessage } from '../entities/chat-message.ts';
import {
  type ChannelHistoryInput,
  type ChatMessage,
  type ChatPage,
  type ConversationInput,
  channelHistoryInputSchema,
  conversationInputSchema,
  type EditMessageInput,
  editMessageInputSchema,
  type MessageType,
  type SendChannelMessageInput,
  type SendDirectMessageInput,
  sendChannelMessageInputSchema,
  sendDirectMessageInputSchema,
} from '../schemas.ts';
import { isVisible, notFound, requireAdmin } from './access.ts';
import { publishChatEvent } from './events.ts';
import { toChatMessage } from './outputs.ts';

type MessageRow = Record<string, unknown>;

/** System messages speak for the product (announcements), so only admins send them. */
function requireMayUse(actor: ScrumActor, messageType: MessageType): void {
  if (messageType === 'system') requireAdmin(actor, 'send system messages', 'messageType');
}

async function published(em: EntityManager, row: MessageRow, type: 'message_sent' | 'message_edited') {
  const message = toChatMessage(em.map(ScrumChatMessage, row));
  await publishChatEvent(em, { type, message });
  return message;
}

/**
 * Sends a direct message — a hot path: one `insert … select` that also checks the recipient is an active
 * user, then the event (to the sender and the recipient only).
 */
export async function sendDirectMessage(
  em: EntityManager,
  actor: ScrumActor,
  input: SendDirectMessageInput,
): Promise<ChatMessage> {
  const { recipientId, message, messageType, fileUrl } = parseInput(sendDirectMessageInputSchema, input);
  requireMayUse(actor, messageType);
  const [row] = await em.execute<MessageRow[]>(
    `insert into scrum.chat_messages (sender_id, recipient_id, channel, message, message_type, file_url)
     select ?, u.id, null, ?, ?, ? from scrum.users u where u.id = ? and u.is_active
     returning *`,
    [actor.userId, message, messageType, fileUrl ?? null, recipientId],
  );
  if (!row) throw notFound('recipientId', 'active user', recipientId);
  return published(em, row, 'message_sent');
}

/** Sends a message to a channel (every active user reads channels): one `insert`, then the event. */
export async function sendChannelMessage(
  em: EntityManager,
  actor: ScrumActor,
  input: SendChannelMessageInput,
): Promise<ChatMessage> {
  const { channel, message, messageType, fileUrl } = parseInput(sendChannelMessageInputSchema, input);
  requireMayUse(actor, messageType);
  const [row] = await em.execute<MessageRow[]>(
    `insert into scrum.chat_messages (sender_id, recipient_id, channel, message, message_type, file_url)
     values (?, null, ?, ?, ?, ?) returning *`,
    [actor.userId, channel, message, messageType, fileUrl ?? null],
  );
  return published(em, row!, 'message_sent');
}

/** Edits the text of one of the actor's own messages (`is_edited`, `edited_at`). */
export async function editMessage(
  em: EntityManager,
  actor: ScrumActor,
  input: EditMessageInput,
): Promise<ChatMessage> {
  const { messageId, message } = parseInput(editMessageInputSchema, input);
  const [row] = await em.execute<MessageRow[]>(
    `update scrum.chat_messages set message = ?, is_edited = true, edited_at = now()
     where id = ? and sender_id = ? returning *`,
    [message, messageId, actor.userId],
  );
  if (!row) {
    if (await isVisible(em, 'chat_messages', messageId)) {
      throw new ForbiddenError(`messageId: only its sender may edit message ${messageId}`, {
        field: 'messageId',
      });
    }
    throw notFound('messageId', 'message', messageId);
  }
  return published(em, row, 'message_edited');
}

/**
 * One page of messages matching `where`, newest `limit` before message `before` (by created_at, then id),
 * returned oldest first, with the cursor of the next (older) page.
 */
async function page(
  em: EntityManager,
  where: string,
  params: unknown[],
  { before, limit }: { before?: number | undefined; limit: number },
): Promise<ChatPage> {
  const cursor =
    before === undefined
      ? ''
      : 'and (m.created_at, m.id) < (select c.created_at, c.id from scrum.chat_messages c where c.id = ?)';
  const rows = await em.execute<MessageRow[]>(
    `select m.* from scrum.chat_messages m where (${where}) ${cursor}
     order by m.created_at desc, m.id desc limit ?`,
    [...params, ...(before === undefined ? [] : [before]), limit + 1],
  );
  const messages = rows.slice(0, limit).map((row) => toChatMessage(em.map(ScrumChatMessage, row)));
  const hasMore = rows.length > limit;
  return { messages: messages.reverse(), nextBefore: hasMore ? messages[0]!.id : null };
}

/** The direct messages between the actor and `userId` (the seed's pattern: idx_chat_conversation). */
export function getConversation(
  em: EntityManager,
  actor: ScrumActor,
  input: ConversationInput,
): Promise<ChatPage> {
  const { userId, ...pageInput } = parseInput(conversationInputSchema, input);
  return page(
    em,
    '(m.sender_id = ? and m.recipient_id = ?) or (m.sender_id = ? and m.recipient_id = ?)',
    [actor.userId, userId, userId, actor.userId],
    pageInput,
  );
}

/** A channel's messages (idx_chat_channel_history). */
export function getChannelHistory(
  em: EntityManager,
  _actor: ScrumActor,
  input: ChannelHistoryInput,
): Promise<ChatPage> {
  const { channel, ...pageInput } = parseInput(channelHistoryInputSchema, input);
  return page(em, 'm.recipient_id is null and m.channel = ?', [channel], pageInput);
}
