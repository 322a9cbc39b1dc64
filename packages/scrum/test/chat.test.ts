import { ForbiddenError, InvalidInputError, NotFoundError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { scrumOperations } from '../src/operations.ts';
import {
  type ChatEventNotice,
  type ChatMessage,
  chatEventNoticeSchema,
  chatMessageSchema,
  chatPageSchema,
  isChatEventFor,
  SCRUM_CHAT_CHANNEL,
} from '../src/schemas.ts';
import { chatEventOf, editMessage, getChannelHistory, getConversation } from '../src/services/chat.ts';
import { asActor, call, eventually, expectHuddleError, newUser, useSqlClient } from './helpers.ts';

const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);

type Person = Awaited<ReturnType<typeof newUser>>;
let ann: Person;
let bob: Person;
let cy: Person;
let admin: Person;

beforeAll(async () => {
  ann = await newUser(postgres.client, 'developer', 'ann');
  bob = await newUser(postgres.client, 'tester', 'bob');
  cy = await newUser(postgres.client, 'designer', 'cy');
  admin = await newUser(postgres.client, 'admin');
});

const dm = (from: Person, to: Person, input: Record<string, unknown> = {}) =>
  call(test.db, from.actor, scrumOperations.chat.sendDirect, {
    recipientId: to.id,
    message: 'hello',
    ...input,
  });

describe('direct messages', () => {
  it('are stored without a channel and published to listeners with sender and recipient', async () => {
    const notices: ChatEventNotice[] = [];
    const unlisten = await test.db.events.listen(SCRUM_CHAT_CHANNEL, (payload) => {
      notices.push(chatEventNoticeSchema.parse(payload));
    });
    try {
      const message = await dm(ann, bob, { message: '  hi Bob  ' });
      expect(chatMessageSchema.parse(message)).toEqual(message);
      expect(message).toMatchObject({
        senderId: ann.id,
        recipientId: bob.id,
        channel: null,
        message: 'hi Bob',
        messageType: 'text',
        fileUrl: null,
        isEdited: false,
      });
      const stored = await postgres.client.query(
        'select channel, created_at from scrum.chat_messages where id = $1',
        [message.id],
      );
      expect(stored.rows[0]).toEqual({ channel: null, created_at: new Date(message.createdAt) });
      const notice = {
        type: 'message_sent',
        messageId: message.id,
        senderId: ann.id,
        recipientId: bob.id,
        channel: null,
      };
      await eventually(() => expect(notices).toEqual([notice]));
      // Each subscriber reads the message with its own visibility: the two people see it, a third does not.
      for (const person of [ann, bob]) {
        expect(
          await asActor(test.db, person.actor, (em, actor) => chatEventOf(em, actor, notices[0]!)),
        ).toEqual({
          type: 'message_sent',
          message,
        });
      }
      expect(
        await asActor(test.db, cy.actor, (em, actor) => chatEventOf(em, actor, notices[0]!)),
      ).toBeUndefined();
    } finally {
      await unlisten();
    }
  });

  it('carry a validated http(s) URL when they are files, and only then', async () => {
    const file = await dm(ann, bob, {
      messageType: 'file',
      message: 'spec.pdf',
      fileUrl: 'https://files.example.com/spec.pdf',
    });
    expect(file).toMatchObject({ messageType: 'file', fileUrl: 'https://files.example.com/spec.pdf' });
    for (const input of [
      { messageType: 'file', message: 'x' },
      { messageType: 'file', message: 'x', fileUrl: 'javascript:alert(1)' },
      { messageType: 'file', message: 'x', fileUrl: 'ftp://files.example.com/a' },
      { messageType: 'text', message: 'x', fileUrl: 'https://files.example.com/a' },
    ]) {
      const error = await expectHuddleError(dm(ann, bob, input), InvalidInputError);
      expect(error.constraint.field).toBe('fileUrl');
    }
  });

  it('the largest message a client may send is published; one character more is refused', async () => {
    const notices: ChatEventNotice[] = [];
    const unlisten = await test.db.events.listen(SCRUM_CHAT_CHANNEL, (payload) => {
      notices.push(chatEventNoticeSchema.parse(payload));
    });
    try {
      const fileUrl = `https://files.example.com/${'a'.repeat(1_000 - 'https://files.example.com/'.length)}`;
      const largest = await dm(ann, bob, { messageType: 'file', message: '€'.repeat(2_000), fileUrl });
      await eventually(() => expect(notices.map((notice) => notice.messageId)).toEqual([largest.id]));
      expect(
        (await expectHuddleError(dm(ann, bob, { message: '€'.repeat(2_001) }), InvalidInputError)).constraint
          .field,
      ).toBe('message');
      const unicodeUrl = { messageType: 'file', message: 'x', fileUrl: 'https://files.example.com/é' };
      expect((await expectHuddleError(dm(ann, bob, unicodeUrl), InvalidInputError)).constraint.field).toBe(
        'fileUrl',
      );
    } finally {
      await unlisten();
    }
  });

  it('a message of 1,500 control characters (9,000 bytes JSON-escaped) is sent: its event carries ids, not the text', async () => {
    const notices: ChatEventNotice[] = [];
    const unlisten = await test.db.events.listen(SCRUM_CHAT_CHANNEL, (payload) => {
      notices.push(chatEventNoticeSchema.parse(payload));
    });
    try {
      const controls = '\u0001'.repeat(1_500);
      const direct = await dm(ann, bob, { message: controls });
      const posted = await call(test.db, cy.actor, scrumOperations.chat.sendChannel, {
        channel: 'controls',
        message: controls,
      });
      expect([direct.message, posted.message]).toEqual([controls, controls]);
      await eventually(() =>
        expect(notices).toEqual([
          {
            type: 'message_sent',
            messageId: direct.id,
            senderId: ann.id,
            recipientId: bob.id,
            channel: null,
          },
          {
            type: 'message_sent',
            messageId: posted.id,
            senderId: cy.id,
            recipientId: null,
            channel: 'controls',
          },
        ]),
      );
    } finally {
      await unlisten();
    }
  });

  it('refuse an unknown or deactivated recipient, an empty message, and system messages from non-admins', async () => {
    const gone = await newUser(postgres.client, 'developer', 'gone');
    await postgres.client.query('update scrum.users set is_active = false where id = $1', [gone.id]);
    const before = await postgres.client.query('select count(*)::int as n from scrum.chat_messages');
    expect((await expectHuddleError(dm(ann, gone), NotFoundError)).constraint.field).toBe('recipientId');
    const after = await postgres.client.query('select count(*)::int as n from scrum.chat_messages');
    expect(after.rows[0]).toEqual(before.rows[0]);
    expect(
      (await expectHuddleError(dm(ann, bob, { message: '   ' }), InvalidInputError)).constraint.field,
    ).toBe('message');
    expect(
      (await expectHuddleError(dm(ann, bob, { messageType: 'system' }), ForbiddenError)).constraint.field,
    ).toBe('messageType');
    expect((await dm(admin, bob, { messageType: 'system', message: 'Maintenance at 6' })).messageType).toBe(
      'system',
    );
  });

  it('the conversation pages back in time with a stable cursor, and only ever holds the two people’s messages', async () => {
    const sent: ChatMessage[] = [];
    for (let index = 0; index < 5; index++) {
      sent.push(await dm(index % 2 === 0 ? cy : bob, index % 2 === 0 ? bob : cy, { message: `m${index}` }));
    }
    await dm(cy, ann, { message: 'not in this conversation' });
    const read = (before?: number) =>
      asActor(test.db, bob.actor, (em, actor) =>
        getConversation(em, actor, { userId: cy.id, limit: 2, before }),
      );
    const first = await read();
    expect(chatPageSchema.parse(first)).toEqual(first);
    expect(first).toEqual({ messages: sent.slice(3), nextBefore: sent[3]!.id });
    // A message arriving between pages does not shift the next page.
    await dm(cy, bob, { message: 'late' });
    const second = await read(first.nextBefore!);
    expect(second.messages).toEqual(sent.slice(1, 3));
    const third = await read(second.nextBefore!);
    expect(third).toEqual({ messages: [sent[0]], nextBefore: null });
    // Ann asking for Bob and Cy's conversation gets her own conversation with Bob, never theirs.
    const annView = await call(test.db, ann.actor, scrumOperations.chat.conversation, { userId: cy.id });
    expect(annView.messages.map((message) => message.message)).toEqual(['not in this conversation']);
  });

  it('a direct message belongs to no channel, whatever its row holds (the column defaults to general)', async () => {
    await postgres.client.query(
      `insert into scrum.chat_messages (sender_id, recipient_id, message) values ($1, $2, 'from an import')`,
      [admin.id, cy.id],
    );
    const conversation = await call(test.db, cy.actor, scrumOperations.chat.conversation, {
      userId: admin.id,
    });
    expect(conversation.messages).toMatchObject([{ message: 'from an import', channel: null }]);
  });
});

describe('channel messages', () => {
  it('go to a channel, are read by everyone, and page like conversations', async () => {
    const posts = [];
    for (const text of ['one', 'two', 'three']) {
      posts.push(
        await call(test.db, ann.actor, scrumOperations.chat.sendChannel, {
          channel: 'release',
          message: text,
        }),
      );
    }
    await call(test.db, bob.actor, scrumOperations.chat.sendChannel, {
      channel: 'general',
      message: 'elsewhere',
    });
    expect(posts[0]).toMatchObject({ channel: 'release', recipientId: null, senderId: ann.id });
    const page = await asActor(test.db, cy.actor, (em, actor) =>
      getChannelHistory(em, actor, { channel: 'release', limit: 2 }),
    );
    expect(page.messages.map((message) => message.message)).toEqual(['two', 'three']);
    const older = await call(test.db, cy.actor, scrumOperations.chat.channelHistory, {
      channel: 'release',
      before: page.nextBefore!,
    });
    expect(older).toEqual({ messages: [posts[0]], nextBefore: null });
    const error = await expectHuddleError(
      call(test.db, cy.actor, scrumOperations.chat.sendChannel, {
        channel: 'Release Notes!',
        message: 'x',
      }),
      InvalidInputError,
    );
    expect(error.constraint.field).toBe('channel');
  });
});

describe('chat event delivery', () => {
  it('a DM reaches its two people only; a channel message the subscribers of its channel', async () => {
    const sent = await dm(ann, bob);
    const direct = {
      type: 'message_sent' as const,
      messageId: sent.id,
      senderId: ann.id,
      recipientId: bob.id,
      channel: null,
    };
    const posted = await call(test.db, cy.actor, scrumOperations.chat.sendChannel, {
      channel: 'release',
      message: 'shipped',
    });
    const channel = {
      type: 'message_sent' as const,
      messageId: posted.id,
      senderId: cy.id,
      recipientId: null,
      channel: 'release',
    };
    expect([ann, bob, cy].map((person) => isChatEventFor(direct, person.id, { channel: 'release' }))).toEqual(
      [true, true, false],
    );
    expect(isChatEventFor(channel, ann.id, { channel: 'release' })).toBe(true);
    expect(isChatEventFor(channel, ann.id, { channel: 'general' })).toBe(false);
    expect(isChatEventFor(channel, ann.id, {})).toBe(false);
  });
});

describe('editing', () => {
  it('the sender edits their message (is_edited, edited_at); the recipient cannot; a stranger gets NotFound', async () => {
    const message = await dm(ann, bob, { message: 'typo' });
    const notices: ChatEventNotice[] = [];
    const unlisten = await test.db.events.listen(SCRUM_CHAT_CHANNEL, (payload) => {
      notices.push(chatEventNoticeSchema.parse(payload));
    });
    const edit = (person: Person) =>
      asActor(test.db, person.actor, (em, actor) =>
        editMessage(em, actor, { messageId: message.id, message: 'hacked' }),
      );
    try {
      const edited = await asActor(test.db, ann.actor, (em, actor) =>
        editMessage(em, actor, { messageId: message.id, message: 'fixed' }),
      );
      expect(edited).toEqual({ ...message, message: 'fixed', isEdited: true, editedAt: expect.any(String) });
      expect(chatMessageSchema.parse(edited)).toEqual(edited);
      const conversation = await asActor(test.db, bob.actor, (em, actor) =>
        getConversation(em, actor, { userId: ann.id, limit: 1 }),
      );
      expect(conversation.messages).toEqual([edited]);
      expect((await expectHuddleError(edit(bob), ForbiddenError)).constraint.field).toBe('messageId');
      expect((await expectHuddleError(edit(cy), NotFoundError)).constraint.field).toBe('messageId');
      // The edit's event only: a refused edit publishes nothing.
      await eventually(() =>
        expect(notices).toEqual([
          {
            type: 'message_edited',
            messageId: message.id,
            senderId: ann.id,
            recipientId: bob.id,
            channel: null,
          },
        ]),
      );
      const stored = await postgres.client.query(
        'select message, edited_at from scrum.chat_messages where id = $1',
        [message.id],
      );
      expect(stored.rows[0]).toEqual({ message: 'fixed', edited_at: new Date(edited.editedAt!) });
    } finally {
      await unlisten();
    }
  });
});
