import { checkIn, createdAt, defineEntity, p, readOnlySelectAll, timestamptz } from '@huddle/db';
import { MESSAGE_TYPES, type MessageType } from '../schemas.ts';
import { appUserId, requestPolicy } from './policies.ts';
import { ScrumUser } from './user.ts';

const ownMessage = `sender_id = ${appUserId}`;

/** scrum.chat_messages: direct messages (a recipient) and channel messages (no recipient, a channel). */
const ScrumChatMessageSchema = defineEntity({
  name: 'ScrumChatMessage',
  tableName: 'chat_messages',
  properties: {
    id: p.integer().primary().autoincrement(),
    sender: () =>
      p.manyToOne(ScrumUser).ref().updateRule('cascade').deleteRule('restrict').index('idx_chat_sender'),
    recipient: () =>
      p
        .manyToOne(ScrumUser)
        .ref()
        .nullable()
        .updateRule('cascade')
        .deleteRule('restrict')
        .index('idx_chat_recipient'),
    message: p.text(),
    messageType: p.string().length(20).$type<MessageType>().default('text'),
    channel: p.string().length(50).nullable().default('general').index('idx_chat_channel'),
    isEdited: p.boolean().default(false),
    editedAt: timestamptz().nullable(),
    createdAt: createdAt().index('idx_chat_created'),
    /** Beyond the seed: the link a `file` message carries (and only a file message). */
    fileUrl: p.string().length(2000).nullable(),
  },
  indexes: [
    { name: 'idx_chat_conversation', properties: ['sender', 'recipient', 'createdAt'] },
    // Beyond the seed: a channel's history, newest first, page by page.
    {
      name: 'idx_chat_channel_history',
      properties: ['channel', 'createdAt', 'id'],
      where: 'recipient_id is null',
    },
  ],
  checks: [
    checkIn('chat_messages_message_type_check', 'message_type', MESSAGE_TYPES),
    { name: 'chat_messages_file_url_check', expression: "(message_type = 'file') = (file_url is not null)" },
    { name: 'chat_messages_target_check', expression: 'recipient_id is not null or channel is not null' },
  ],
  policies: [
    // A direct message is its sender's and recipient's; a channel message is every (active) member's.
    requestPolicy('chat_messages_select', 'select', {
      using: `recipient_id is null or sender_id = ${appUserId} or recipient_id = ${appUserId}`,
    }),
    requestPolicy('chat_messages_insert', 'insert', { check: ownMessage }),
    requestPolicy('chat_messages_update', 'update', { using: ownMessage, check: ownMessage }),
    readOnlySelectAll('chat_messages'),
  ],
});
export class ScrumChatMessage extends ScrumChatMessageSchema.class {}
ScrumChatMessageSchema.setClass(ScrumChatMessage);
