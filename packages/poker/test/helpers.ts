import type { Database } from '@huddle/db';
import { actingIn } from '@huddle/testing';
import type { PokerActor } from '../src/actor.ts';
import { pokerModule } from '../src/module.ts';
import { join } from '../src/services/users.ts';

export { eventually, expectHuddleError, settleAll, useSqlClient } from '@huddle/testing';

export const { asActor, inRequest, call, callStepped } = actingIn(pokerModule);

export function actorOf(user: { id: number }): PokerActor {
  return { module: 'poker', userId: user.id };
}

let uniqueUserNumber = 0;

/** A new user with a unique email, as `join` creates them. */
export async function newUser(db: Database, name: string): Promise<{ id: number; actor: PokerActor }> {
  uniqueUserNumber += 1;
  const email = `${name.toLowerCase().replaceAll(' ', '.')}.${process.pid}.${uniqueUserNumber}@test.example`;
  const user = await inRequest(db, (em) => join(em, { name, email }, null));
  return { id: user.id, actor: actorOf(user) };
}
