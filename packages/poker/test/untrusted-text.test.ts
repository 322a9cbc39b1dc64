import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Database, InvalidInputError, migrateUp, openDatabase, parseInput } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PokerSession } from '../src/entities/session.ts';
import { PokerStory } from '../src/entities/story.ts';
import { pokerModule } from '../src/module.ts';
import { pokerOperations } from '../src/operations.ts';
import { joinInputSchema } from '../src/schemas.ts';
import { createSession, getSession } from '../src/services/sessions.ts';
import { addStory } from '../src/services/stories.ts';
import { join } from '../src/services/users.ts';
import { asActor, call, expectHuddleError, inRequest, newUser } from './helpers.ts';

/**
 * Strings a client can send that PostgreSQL cannot store as given: a lone UTF-16 surrogate after a
 * non-ASCII character (PGlite 0.5.16 measured it one byte short, so the inlined statement lost its last
 * byte: `where "id" = 33` ran as `= 3`) and a NUL character (PostgreSQL text cannot hold it).
 */
const LONE_SURROGATE = 'PWNED é\udeea';
const MANY_LONE_SURROGATES = `OWNED ${'é\udeea'.repeat(15)}`;
const NUL = 'a\u0000b';
const RULE = 'must be well-formed text without NUL characters';

const postgresql = useTestDatabase([pokerModule]);
let embeddedDir: string;
let embedded: Database | undefined;
beforeAll(async () => {
  embeddedDir = await mkdtemp(path.join(tmpdir(), 'huddle-poker-text-'));
  embedded = await openDatabase({ modules: [pokerModule], target: { kind: 'pglite', dataDir: embeddedDir } });
  await migrateUp(embedded);
});
afterAll(async () => {
  await embedded?.close();
  await rm(embeddedDir, { recursive: true, force: true });
});

async function sessionNames(db: Database): Promise<Map<number, string>> {
  const sessions = await db.orm.em.fork().find(PokerSession, {}, { orderBy: { id: 'asc' } });
  return new Map(sessions.map((session) => [session.id, session.name]));
}

async function storyTitles(db: Database): Promise<Map<number, string>> {
  const stories = await db.orm.em.fork().find(PokerStory, {}, { orderBy: { id: 'asc' } });
  return new Map(stories.map((story) => [story.id, story.title]));
}

/**
 * A victim's session and an attacker's session whose id extends the victim's by one digit (1 and 1x),
 * the shape in which a statement cut by one byte updates the victim's row. Needs a fresh database.
 */
async function victimAndAttacker(db: Database) {
  const victim = await newUser(db, 'Victim');
  const attacker = await newUser(db, 'Mallory');
  const victimSession = await asActor(db, victim.actor, (em, actor) =>
    createSession(em, actor, { name: 'Victim’s' }),
  );
  await asActor(db, victim.actor, (em, actor) =>
    addStory(em, actor, { sessionId: victimSession.id, title: 'Victim’s' }),
  );
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const attackerSession = await asActor(db, attacker.actor, (em, actor) =>
      createSession(em, actor, { name: `Mallory’s ${attempt}` }),
    );
    if (Math.floor(attackerSession.id / 10) === victimSession.id) {
      const story = await asActor(db, attacker.actor, (em, actor) =>
        addStory(em, actor, { sessionId: attackerSession.id, title: 'Mallory’s' }),
      );
      return { attacker, victimSession, attackerSession, story };
    }
  }
  throw new Error(`no attacker session id extends ${victimSession.id}: the database was not fresh`);
}

describe.each([
  { backend: 'embedded PGlite', database: () => embedded! },
  { backend: 'PostgreSQL', database: () => postgresql.db },
])('untrusted text on $backend', ({ database }) => {
  let scenario: Awaited<ReturnType<typeof victimAndAttacker>>;
  beforeAll(async () => {
    scenario = await victimAndAttacker(database());
  });

  it('well-formed non-ASCII text is read back exactly as written (the session page is JSON built by the database)', async () => {
    const db = database();
    const { attacker } = scenario;
    const created = await asActor(db, attacker.actor, (em, actor) =>
      createSession(em, actor, { name: 'Café ☕ 𝄞 "quoted" \\ back' }),
    );
    const story = await asActor(db, attacker.actor, (em, actor) =>
      addStory(em, actor, { sessionId: created.id, title: 'Ünïcödé ✓', description: 'line\nbreak' }),
    );
    const page = await asActor(db, attacker.actor, (em, actor) =>
      getSession(em, actor, { sessionId: created.id }),
    );
    expect(page).toEqual({
      ...created,
      deck: expect.objectContaining({ key: 'standard' }),
      stories: [story],
      participants: [
        {
          sessionId: created.id,
          userId: created.facilitatorId,
          name: 'Mallory',
          isSpectator: false,
          joinedAt: expect.any(String),
        },
      ],
    });
  });

  it('a rename with a lone surrogate or a NUL is refused and renames no session, the victim’s included', async () => {
    const db = database();
    const { attacker, attackerSession } = scenario;
    const before = await sessionNames(db);
    for (const name of [LONE_SURROGATE, MANY_LONE_SURROGATES, NUL]) {
      const error = await expectHuddleError(
        call(db, attacker.actor, pokerOperations.sessions.rename, {
          sessionId: attackerSession.id,
          name,
        }),
        InvalidInputError,
      );
      expect(error.message).toBe(`name: ${RULE}`);
      expect(error.constraint.field).toBe('name');
    }
    expect(await sessionNames(db)).toEqual(before);
  });

  it('every string field refuses a lone surrogate and a NUL, naming the field', async () => {
    const db = database();
    const user = await newUser(db, 'Writer');
    const session = await asActor(db, user.actor, (em, actor) => createSession(em, actor, { name: 'Texts' }));
    const story = await asActor(db, user.actor, (em, actor) =>
      addStory(em, actor, { sessionId: session.id, title: 'Plain' }),
    );
    const before = { sessions: await sessionNames(db), stories: await storyTitles(db) };
    for (const bad of [LONE_SURROGATE, NUL]) {
      const calls: [string, () => Promise<unknown>][] = [
        [
          'name',
          () => inRequest(db, async (em) => join(em, parseInput(joinInputSchema, { name: bad }), null)),
        ],
        [
          'email',
          () =>
            inRequest(db, async (em) =>
              join(em, parseInput(joinInputSchema, { name: 'Ok', email: `${bad}@example.com` }), null),
            ),
        ],
        ['name', () => call(db, user.actor, pokerOperations.sessions.create, { name: bad })],
        [
          'title',
          () =>
            call(db, user.actor, pokerOperations.stories.add, {
              sessionId: session.id,
              title: bad,
            }),
        ],
        [
          'description',
          () =>
            call(db, user.actor, pokerOperations.stories.add, {
              sessionId: session.id,
              title: 'Ok',
              description: bad,
            }),
        ],
        [
          'title',
          () =>
            call(db, user.actor, pokerOperations.stories.edit, {
              storyId: story.id,
              title: bad,
            }),
        ],
        [
          'description',
          () =>
            call(db, user.actor, pokerOperations.stories.edit, {
              storyId: story.id,
              description: bad,
            }),
        ],
      ];
      for (const [field, attempt] of calls) {
        const error = await expectHuddleError(attempt(), InvalidInputError);
        expect(error.message).toBe(`${field}: ${RULE}`);
        expect(error.constraint.field).toBe(field);
      }
    }
    expect({ sessions: await sessionNames(db), stories: await storyTitles(db) }).toEqual(before);
  });

  it('below the boundary, an ORM update with lone surrogates changes only the row it names', async () => {
    const db = database();
    const { attackerSession, victimSession, story } = scenario;
    const sessionsBefore = await sessionNames(db);
    const storiesBefore = await storyTitles(db);

    await inRequest(db, (em) =>
      em.nativeUpdate(PokerSession, { id: attackerSession.id }, { name: LONE_SURROGATE }),
    );
    await inRequest(db, (em) =>
      em.nativeUpdate(PokerStory, { id: story.id }, { title: MANY_LONE_SURROGATES }),
    );

    // The encoder stores each lone surrogate as U+FFFD; every other row is as it was.
    expect(await sessionNames(db)).toEqual(
      new Map(sessionsBefore).set(attackerSession.id, LONE_SURROGATE.toWellFormed()),
    );
    expect((await sessionNames(db)).get(victimSession.id)).toBe('Victim’s');
    expect(await storyTitles(db)).toEqual(
      new Map(storiesBefore).set(story.id, MANY_LONE_SURROGATES.toWellFormed()),
    );
  });

  it('below the boundary, an ORM update with a NUL fails whole and changes nothing', async () => {
    const db = database();
    const user = await newUser(db, 'Nul');
    const session = await asActor(db, user.actor, (em, actor) =>
      createSession(em, actor, { name: 'Before' }),
    );
    const before = await sessionNames(db);
    const error = await inRequest(db, (em) =>
      em.nativeUpdate(PokerSession, { id: session.id }, { name: NUL }),
    ).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(Error);
    expect(await sessionNames(db)).toEqual(before);
  });
});
