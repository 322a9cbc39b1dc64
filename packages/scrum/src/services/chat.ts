import { type EntityManager, executePrepared, ForbiddenError, preparedStatement } from '@huddle/db';
import type { ScrumActor } from '../actor.ts';
import {
  type ChannelHistoryInput,
  type ChatEvent,
  type ChatEventNotice,
  type ChatMessage,
  type ChatPage,
  type ConversationInput,
  type EditMessageInput,
  type MessageType,
  SCRUM_CHAT_CHANNEL,
  type SendChannelMessageInput,
  type SendDirectMessageInput,
} from '../schemas.ts';
import { isVisible, notFound, requireAdmin } from './access.ts';
import { chatMessageColumnsSql } from './outputs.ts';

/** System messages speak for the product (announcements), so only admins send them. */
function requireMayUse(actor: ScrumActor, messageType: MessageType): void {
  if (messageType === 'system') requireAdmin(actor, 'send system messages', 'messageType');
}

/**
 * Runs `write` — an insert or update of one scrum.chat_messages row aliased `m`, without `returning` — and
 * publishes the notice of the message it wrote (ids, never the text), in one statement (a hot path: no
 * entity, no second round trip). When `write` wrote nothing, nothing is published and the answer is
 * undefined.
 */
async function writeAndPublish(
  em: EntityManager,
  write: string,
  params: unknown[],
  type: ChatEventNotice['type'],
): Promise<ChatMessage | undefined> {
  const [message]: ChatMessage[] = await em.execute(
    `with written as (${write} returning ${chatMessageColumnsSql('m')}),
     published as (
       select pg_notify(?, json_build_object('type', ?, 'messageId', written.id, 'senderId', written."senderId",
         'recipientId', written."recipientId", 'channel', written.channel)::text) from written)
     select written.* from written, published`,
    [...params, SCRUM_CHAT_CHANNEL, type],
  );
  return message;
}

/**
 * Sends a direct message — a hot path: one statement inserts it only if the recipient is an active user
 * (`insert … select`) and publishes its event (to the sender and the recipient only).
 */
export async function sendDirectMessage(
  em: EntityManager,
  actor: ScrumActor,
  input: SendDirectMessageInput,
): Promise<ChatMessage> {
  const { recipientId, message, messageType, fileUrl } = input;
  requireMayUse(actor, messageType);
  const sent = await writeAndPublish(
    em,
    `insert into scrum.chat_messages as m (sender_id, recipient_id, channel, message, message_type, file_url)
     select ?, u.id, null, ?, ?, ? from scrum.users u where u.id = ? and u.is_active`,
    [actor.userId, message, messageType, fileUrl ?? null, recipientId],
    'message_sent',
  );
  if (!sent) throw notFound('recipientId', 'active user', recipientId);
  return sent;
}

/** Sends a message to a channel (every active user reads channels): one statement, with its event. */
export async function sendChannelMessage(
  em: EntityManager,
  actor: ScrumActor,
  input: SendChannelMessageInput,
): Promise<ChatMessage> {
  const { channel, message, messageType, fileUrl } = input;
  requireMayUse(actor, messageType);
  const sent = await writeAndPublish(
    em,
    `insert into scrum.chat_messages as m (sender_id, recipient_id, channel, message, message_type, file_url)
     values (?, null, ?, ?, ?, ?)`,
    [actor.userId, channel, message, messageType, fileUrl ?? null],
    'message_sent',
  );
  return sent!;
}

/** Edits the text of one of the actor's own messages (`is_edited`, `edited_at`), with its event. */
export async function editMessage(
  em: EntityManager,
  actor: ScrumActor,
  input: EditMessageInput,
): Promise<ChatMessage> {
  const { messageId, message } = input;
  const edited = await writeAndPublish(
    em,
    `update scrum.chat_messages m set message = ?, is_edited = true, edited_at = now()
     where m.id = ? and m.sender_id = ?`,
    [message, messageId, actor.userId],
    'message_edited',
  );
  if (!edited) {
    if (await isVisible(em, 'chat_messages', messageId)) {
      throw new ForbiddenError(`messageId: only its sender may edit message ${messageId}`, {
        field: 'messageId',
      });
    }
    throw notFound('messageId', 'message', messageId);
  }
  return edited;
}

/**
 * A chat history's statement: the newest messages matching `where` before message `$2` (by created_at, then
 * id; all of them when `$2` is null), at most `$1`, newest first; `where`'s own parameters from `$3`. Hot
 * reads, so prepared statements whose rows are the answer.
 */
function chatPageStatement(name: string, where: string) {
  return preparedStatement<ChatMessage>(
    name,
    `select ${chatMessageColumnsSql('m')} from scrum.chat_messages m
     where (${where})
       and ($2::int is null
            or (m.created_at, m.id) < (select c.created_at, c.id from scrum.chat_messages c where c.id = $2))
     order by m.created_at desc, m.id desc limit $1`,
  );
}

/** The seed's pattern (idx_chat_conversation): `$3` the actor, `$4` the other person. */
const conversationStatement = chatPageStatement(
  'scrum.conversation_page',
  '(m.sender_id = $3 and m.recipient_id = $4) or (m.sender_id = $4 and m.recipient_id = $3)',
);
/** idx_chat_channel_history: `$3` the channel. */
const channelHistoryStatement = chatPageStatement(
  'scrum.channel_history_page',
  'm.recipient_id is null and m.channel = $3',
);

/** One page of `statement`'s messages, returned oldest first, with the cursor of the next (older) page. */
async function page(
  em: EntityManager,
  statement: ReturnType<typeof chatPageStatement>,
  params: unknown[],
  { before, limit }: { before?: number | undefined; limit: number },
): Promise<ChatPage> {
  const rows = await executePrepared(em, statement, [limit + 1, before ?? null, ...params]);
  const messages = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { messages: messages.reverse(), nextBefore: hasMore ? messages[0]!.id : null };
}

/** The direct messages between the actor and `userId`. */
export function getConversation(
  em: EntityManager,
  actor: ScrumActor,
  input: ConversationInput,
): Promise<ChatPage> {
  const { userId, ...pageInput } = input;
  return page(em, conversationStatement, [actor.userId, userId], pageInput);
}

/** A channel's messages. */
export function getChannelHistory(
  em: EntityManager,
  _actor: ScrumActor,
  input: ChannelHistoryInput,
): Promise<ChatPage> {
  const { channel, ...pageInput } = input;
  return page(em, channelHistoryStatement, [channel], pageInput);
}

/** `chatEventOf`'s statement: `$1` the message's id (row-level security applies). */
const chatMessageStatement = preparedStatement<ChatMessage>(
  'scrum.chat_message',
  `select ${chatMessageColumnsSql('m')} from scrum.chat_messages m where m.id = $1`,
);

/**
 * The event a chat subscriber receives for `notice`: the message as the actor sees it now (row-level
 * security decides), or undefined when the actor may not see it.
 */
export async function chatEventOf(
  em: EntityManager,
  _actor: ScrumActor,
  notice: ChatEventNotice,
): Promise<ChatEvent | undefined> {
  const [message] = await executePrepared(em, chatMessageStatement, [notice.messageId]);
  return message && { type: notice.type, message };
}
