import { InvalidInputError } from '@huddle/db';
import { MAX_PAGE_SIZE } from '@huddle/db/zod';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { newDirector, newPerson, newProject } from './fixtures.ts';
import { call, expectHuddleError } from './helpers.ts';

/** Every list is a page: a bounded size and a keyset cursor that walks the whole list exactly once. */
const test = useTestDatabase([decisionsModule]);
let director: DecisionsActor;
let owner: DecisionsActor;
let projectId: number;

beforeAll(async () => {
  director = await newDirector(test.db);
  owner = await newPerson(test.db, director, 'Paula Pager');
  projectId = await newProject(test.db, owner);
  for (const name of ['Ada', 'Bea', 'Cy']) {
    const person = await newPerson(test.db, director, name);
    await call(test.db, owner, decisionsOperations.projects.addMember, { projectId, userId: person.userId });
  }
});

/** Every item of a list, read `limit` at a time by following nextCursor. */
async function walk<Item>(
  page: (cursor: string | undefined) => Promise<{ items: Item[]; nextCursor: string | null }>,
): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  return { items, pages };
}

describe('paged lists', () => {
  it('walks users, projects and members a page at a time, each item once', async () => {
    const allUsers = await call(test.db, director, decisionsOperations.users.list, { limit: MAX_PAGE_SIZE });
    const users = await walk((cursor) =>
      call(test.db, director, decisionsOperations.users.list, { limit: 2, cursor }),
    );
    expect(users.items).toEqual(allUsers.items);
    expect(users.pages).toBeGreaterThanOrEqual(allUsers.items.length / 2);

    for (const name of ['B project', 'A project']) {
      await call(test.db, owner, decisionsOperations.projects.create, { name });
    }
    const projects = await walk((cursor) =>
      call(test.db, owner, decisionsOperations.projects.mine, { limit: 1, cursor }),
    );
    expect(projects.items.map((project) => project.name)).toEqual([
      'A project',
      'B project',
      expect.any(String),
    ]);

    const members = await walk((cursor) =>
      call(test.db, owner, decisionsOperations.projects.members, { projectId, limit: 1, cursor }),
    );
    expect(members.items.map((member) => member.name)).toEqual(['Ada', 'Bea', 'Cy', 'Paula Pager']);
  });

  it('walks transcripts and decisions latest first, with equal timestamps split by id', async () => {
    const ids: number[] = [];
    for (const [title, meetingAt] of [
      ['Early', '2026-11-01T09:00:00Z'],
      ['Same one', '2026-11-02T09:00:00Z'],
      ['Same two', '2026-11-02T09:00:00Z'],
      ['Late', '2026-11-03T09:00:00Z'],
    ]) {
      const transcript = await call(test.db, owner, decisionsOperations.transcripts.create, {
        projectId,
        title: title!,
        meetingAt: meetingAt!,
        content: 'x'.repeat(10_000),
      });
      ids.push(transcript.id);
      await call(test.db, owner, decisionsOperations.decisions.create, {
        projectId,
        title: title!,
        statement: `${title}.`,
        confidence: 0.5,
      });
    }
    const transcripts = await walk((cursor) =>
      call(test.db, owner, decisionsOperations.transcripts.list, { projectId, limit: 1, cursor }),
    );
    expect(transcripts.items.map((item) => item.title)).toEqual(['Late', 'Same two', 'Same one', 'Early']);
    // A list carries no transcript's text: one is read whole through getTranscript.
    for (const item of transcripts.items) {
      expect(Object.keys(item)).not.toContain('content');
      expect(item.participantCount).toBe(0);
    }
    const whole = await call(test.db, owner, decisionsOperations.transcripts.get, { transcriptId: ids[0]! });
    expect(whole.content).toHaveLength(10_000);

    // Decisions created in one breath share microseconds rarely, never their order: by decided_at, then id.
    const decisions = await walk((cursor) =>
      call(test.db, owner, decisionsOperations.decisions.list, { projectId, limit: 1, cursor }),
    );
    expect(decisions.items.map((item) => item.title)).toEqual(['Late', 'Same two', 'Same one', 'Early']);
  });

  it('refuses a page larger than MAX_PAGE_SIZE and a forged cursor, by field', async () => {
    const tooLarge = await expectHuddleError(
      call(test.db, owner, decisionsOperations.decisions.list, { projectId, limit: MAX_PAGE_SIZE + 1 }),
      InvalidInputError,
    );
    expect(tooLarge.constraint.field).toBe('limit');
    const forged = await expectHuddleError(
      call(test.db, owner, decisionsOperations.transcripts.list, { projectId, cursor: 'forged' }),
      InvalidInputError,
    );
    expect(forged.message).toBe('cursor: must be a nextCursor this list returned');
  });
});
