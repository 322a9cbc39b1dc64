/**
 * A strict TypeScript program of another project, type-checked (never run) by scripts/consumer-test.sh
 * against the installed tarballs with skipLibCheck off: the client's types are complete and exact — every
 * procedure's input and output is what the domain package declares, with no `any` anywhere — and a domain
 * package is usable directly.
 */
import {
  type AppRouter,
  createHuddleClient,
  isHuddleClientError,
  type RouterInputs,
  type RouterOutputs,
} from '@huddle/client';
import { migrateUp, openDatabase, runAsActor } from '@huddle/db';
import type { DecisionDetail } from '@huddle/decisions';
import type { PlanDetail } from '@huddle/planner';
import {
  type CastVoteInput,
  castVote,
  pokerActor,
  pokerModule,
  type SessionDetail,
  type StorySummary,
  type Vote,
} from '@huddle/poker';
import type { Task } from '@huddle/scrum';
import type { TRPCClientError } from '@trpc/client';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type IsAny<T> = 0 extends 1 & T ? true : false;
/** Whether `any` hides anywhere in T; functions and dates are leaves. */
type HasAny<T> =
  IsAny<T> extends true
    ? true
    : T extends Date | ((...args: never[]) => unknown)
      ? false
      : T extends object
        ? true extends { [K in keyof T]-?: HasAny<T[K]> }[keyof T]
          ? true
          : false
        : false;
function assertType<_T extends true>(): void {}

assertType<Equal<HasAny<RouterInputs>, false>>();
assertType<Equal<HasAny<RouterOutputs>, false>>();
assertType<Equal<RouterInputs['poker']['votes']['cast'], CastVoteInput>>();
assertType<Equal<RouterOutputs['poker']['votes']['cast'], Vote>>();
assertType<Equal<RouterOutputs['poker']['stories']['summary'], StorySummary>>();
assertType<Equal<RouterOutputs['poker']['sessions']['get'], SessionDetail>>();
assertType<Equal<RouterOutputs['scrum']['tasks']['get'], Task>>();
assertType<Equal<RouterOutputs['decisions']['decisions']['get'], DecisionDetail>>();
assertType<Equal<RouterOutputs['planner']['plans']['get'], PlanDetail>>();
assertType<Equal<NonNullable<TRPCClientError<AppRouter>['data']>['field'], string | null>>();

export async function typedClient(url: string, token: string): Promise<Vote['points']> {
  const client = createHuddleClient(url, { poker: token });
  try {
    const vote = await client.poker.votes.cast.mutate({ storyId: 1, points: '5' });
    // @ts-expect-error a story id is a number: the wrong type is refused before the call is made (a card is
    // any deck's, so a card outside the session's deck is the database's refusal, not the compiler's)
    await client.poker.votes.cast.mutate({ storyId: 'one', points: '5' });
    return vote.points;
  } catch (error) {
    if (isHuddleClientError(error) && error.data?.code === 'NOT_FOUND') return '?';
    throw error;
  }
}

export async function directUse(userId: number): Promise<Vote> {
  const db = await openDatabase({ modules: [pokerModule] });
  try {
    await migrateUp(db);
    return await runAsActor(db.orm, pokerModule, pokerActor.parse(String(userId)), (em, actor) =>
      castVote(em, actor, { storyId: 1, points: '5' }),
    );
  } finally {
    await db.close();
  }
}
