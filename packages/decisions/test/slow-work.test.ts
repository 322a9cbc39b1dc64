import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { DecisionsActor } from '../src/actor.ts';
import { type Extractor, ruleBasedExtractor } from '../src/extraction/extractor.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { type DecisionsResources, defaultDecisionsResources } from '../src/resources.ts';
import * as passwords from '../src/services/passwords.ts';
import { signIn } from '../src/services/users.ts';
import { type Embedder, hashingEmbedder } from '../src/similarity/embedder.ts';
import { newProjectCast } from './fixtures.ts';
import { call, callStepped, inRequest, receiveDelivery, useSqlClient } from './helpers.ts';

vi.mock('../src/services/passwords.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof passwords>();
  return {
    ...actual,
    verifyPassword: vi.fn(actual.verifyPassword),
    hashPassword: vi.fn(actual.hashPassword),
  };
});

/**
 * Slow work (the extractor, bcrypt) runs with no transaction open: a connection left idle in a transaction
 * holds its locks and its pool slot for as long as the work takes, and PostgreSQL ends it at
 * idle_in_transaction_session_timeout. Each test looks, while the slow work runs, at how many sessions of
 * the test database sit idle inside a transaction: the service's own would be one.
 */
const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
let member: DecisionsActor;
let projectId: number;

beforeAll(async () => {
  ({ member, projectId } = await newProjectCast(test.db));
});

async function sessionsIdleInTransaction(): Promise<number> {
  const { rows } = await postgres.client.query(
    `select count(*)::int as n from pg_stat_activity
     where datname = current_database() and state like 'idle in transaction%' and pid <> pg_backend_pid()`,
  );
  return rows[0].n;
}

/** The rule-based extractor, recording how many sessions sat idle in a transaction when it was called. */
function watchingExtractor(seen: number[]): Extractor {
  return {
    name: 'watching',
    async extract(transcript) {
      seen.push(await sessionsIdleInTransaction());
      return ruleBasedExtractor.extract(transcript);
    },
  };
}

/** The hashing embedder, recording how many sessions sat idle in a transaction when it was called. */
function watchingEmbedder(seen: number[]): Embedder {
  return {
    name: hashingEmbedder.name,
    async embed(texts) {
      seen.push(await sessionsIdleInTransaction());
      return hashingEmbedder.embed(texts);
    },
  };
}

/** The module's resources with the watching extractor and embedder, both recording into `seen`. */
function watching(seen: number[]): DecisionsResources {
  return {
    ...defaultDecisionsResources(),
    extractor: watchingExtractor(seen),
    embedder: watchingEmbedder(seen),
  };
}

describe('slow work outside transactions', () => {
  it('extracts and embeds from a transcript with no transaction open, and records what it found', async () => {
    const transcript = await call(test.db, member, decisionsOperations.transcripts.create, {
      projectId,
      title: 'Watched',
      meetingAt: '2026-11-22T09:00:00Z',
      content: 'Ann: We decided to watch the extractor.',
    });
    const seen: number[] = [];
    const { proposed } = await callStepped(
      test.db,
      member,
      decisionsOperations.transcripts.extract,
      { transcriptId: transcript.id },
      watching(seen),
    );
    expect(seen).toEqual([0, 0]);
    expect(proposed.map((decision) => decision.title)).toEqual(['Watch the extractor']);
    const { rows } = await postgres.client.query(
      'select title from decisions.decisions where transcript_id = $1',
      [transcript.id],
    );
    expect(rows).toEqual([{ title: 'Watch the extractor' }]);
  });

  it('extracts from a webhook delivery with no transaction open', async () => {
    const seen: number[] = [];
    const receipt = await receiveDelivery(
      test.db,
      {
        webhookId: 'slow-work-1',
        projectId,
        title: 'Hooked',
        meetingAt: '2026-11-22T10:00:00Z',
        content: "Ann: Let's go with the watched webhook.",
      },
      watching(seen),
    );
    expect(seen).toEqual([0, 0]);
    expect(receipt.proposed.map((decision) => decision.title)).toEqual(['The watched webhook']);
  });

  it('runs bcrypt for a password change with no transaction open, and writes the new hash', async () => {
    const seen: number[] = [];
    const verify = vi.mocked(passwords.verifyPassword);
    const hash = vi.mocked(passwords.hashPassword);
    const actual = await vi.importActual<typeof passwords>('../src/services/passwords.ts');
    verify.mockImplementationOnce(async (password, stored) => {
      seen.push(await sessionsIdleInTransaction());
      return actual.verifyPassword(password, stored);
    });
    hash.mockImplementationOnce(async (password) => {
      seen.push(await sessionsIdleInTransaction());
      return actual.hashPassword(password);
    });
    await callStepped(test.db, member, decisionsOperations.users.changePassword, {
      currentPassword: 'long-enough-1',
      newPassword: 'changed-outside-1',
    });
    expect(seen).toEqual([0, 0]);
    const { rows } = await postgres.client.query('select email from decisions.users where id = $1', [
      member.userId,
    ]);
    const user = await inRequest(test.db, (em) =>
      signIn(em, { email: rows[0].email, password: 'changed-outside-1' }),
    );
    expect(user.id).toBe(member.userId);
  });
});
