import {
  type ActorTransactions,
  type Database,
  type EntityManager,
  parseInput,
  runAnonymously,
  type Transactions,
} from '@huddle/db';
import { actingIn } from '@huddle/testing';
import type { z } from 'zod';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { type DecisionsResources, defaultDecisionsResources } from '../src/resources.ts';
import { type User, type WebhookReceipt, webhookTranscriptInputSchema } from '../src/schemas.ts';
import { receiveWebhookTranscript } from '../src/services/transcripts.ts';

export { expectHuddleError, useSqlClient } from '@huddle/testing';

/** With the module's offline resources (`defaultDecisionsResources`) unless a test gives its own. */
export const { asActor, inRequest, call, callStepped } = actingIn(
  decisionsModule,
  defaultDecisionsResources(),
);

const signInOperation = decisionsOperations.auth.signIn;

/** Signs in as the API does (`decisions.auth.signIn`): the input parsed at the edge, then checked as nobody yet. */
export async function signInAs(db: Database, input: z.input<typeof signInOperation.input>): Promise<User> {
  const transactions = Object.assign(
    <T>(work: (em: EntityManager) => Promise<T>) => runAnonymously(db.orm, decisionsModule, work),
    { asOwner: <T>(work: (em: EntityManager) => Promise<T>) => inRequest(db, work) },
  );
  const { user } = await signInOperation.run(transactions, parseInput(signInOperation.input, input), {
    caller: null,
    resources: defaultDecisionsResources(),
  });
  return user;
}

/**
 * Receives a webhook delivery as the API's signed route does once the signature checks out: the body parsed
 * at that edge (a field-naming InvalidInputError), then the service, its transactions as the route opens them.
 */
export async function receiveDelivery(
  db: Database,
  body: unknown,
  resources: DecisionsResources = defaultDecisionsResources(),
): Promise<WebhookReceipt> {
  const delivery = parseInput(webhookTranscriptInputSchema, body);
  return receiveWebhookTranscript(requestTransactions(db), delivery, resources);
}

/** The transactions a service doing slow work (the webhook) opens, the way the API gives them. */
export function requestTransactions(db: Database): Transactions {
  return (work) => inRequest(db, work);
}

/** The transactions a service doing slow work (bcrypt, extraction) opens for `actor`, as the API gives them. */
export function actorTransactions(db: Database, actor: DecisionsActor): ActorTransactions<DecisionsActor> {
  return (work) => asActor(db, actor, work);
}

/** The actor for a user id, as a token's subject gives it (the role is read by `load`). */
export function actorOf(user: { id: number }): DecisionsActor {
  return decisionsModule.actor.parse(String(user.id));
}

/** A bcrypt-shaped placeholder for rows written with raw SQL that no one signs in with. */
export const UNUSED_PASSWORD_HASH = '$2b$10$abcdefghijklmnopqrstuu0123456789012345678901234567890';
