import {
  type ActorOperation,
  type ActorTransactions,
  callOperation,
  type Database,
  type EntityManager,
  inRequestScope,
  type ParsedInput,
  parseInput,
  runAnonymously,
  runAsActor,
  type SteppedOperation,
  type Transactions,
} from '@huddle/db';
import type { z } from 'zod';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { type DecisionsResources, defaultDecisionsResources } from '../src/resources.ts';
import { type User, type WebhookReceipt, webhookTranscriptInputSchema } from '../src/schemas.ts';
import { receiveWebhookTranscript } from '../src/services/transcripts.ts';

export { expectHuddleError, useSqlClient } from '@huddle/testing';

/** Runs a call that acts for nobody yet (the webhook) the way the API does: own fork and transaction. */
export function inRequest<T>(db: Database, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return inRequestScope(db.orm, work);
}

/**
 * Runs one service call as `actor` the way the API does: loaded by the module (live user, current role), in
 * its own transaction, as `application_user` with only the grants the decisions migrations give it.
 */
export function asActor<T>(
  db: Database,
  actor: DecisionsActor,
  work: (em: EntityManager, actor: DecisionsActor) => Promise<T>,
): Promise<T> {
  return runAsActor(db.orm, decisionsModule, actor, work);
}

/**
 * Calls a decisions query or mutation as `actor` through the edge an app calls (`callOperation`): the input
 * parsed (defaults, lower-cased emails, decoded cursors, field-naming refusals), then the service as the API
 * runs it; with the module's default resources unless the test gives its own.
 */
export function call<Input extends z.ZodType | undefined, Output extends z.ZodType>(
  db: Database,
  actor: DecisionsActor,
  operation: ActorOperation<'query' | 'mutation', DecisionsActor, DecisionsResources, Input, Output>,
  input: Input extends z.ZodType ? z.input<Input> : undefined,
  resources: DecisionsResources = defaultDecisionsResources(),
): Promise<z.output<Output>> {
  return callOperation(db.orm, decisionsModule, operation, actor, input, resources);
}

/**
 * Calls a stepped operation (slow work between short transactions: bcrypt, extraction) as the API does: the
 * input parsed at the edge, each step in a transaction of its own as `actor`, loaded afresh.
 */
export async function callStepped<Input extends z.ZodType, Output extends z.ZodType>(
  db: Database,
  actor: DecisionsActor,
  operation: SteppedOperation<DecisionsActor, DecisionsResources, Input, Output>,
  input: z.input<Input>,
  resources: DecisionsResources = defaultDecisionsResources(),
): Promise<z.output<Output>> {
  const parsed = parseInput(operation.input, input) as ParsedInput<Input>;
  return operation.output.parse(await operation.run(actorTransactions(db, actor), parsed, resources));
}

const signInOperation = decisionsOperations.auth.signIn;

/** Signs in as the API does (`decisions.auth.signIn`): the input parsed at the edge, then checked as nobody yet. */
export async function signInAs(db: Database, input: z.input<typeof signInOperation.input>): Promise<User> {
  const transactions = Object.assign(
    <T>(work: (em: EntityManager) => Promise<T>) => runAnonymously(db.orm, decisionsModule, work),
    { asOwner: <T>(work: (em: EntityManager) => Promise<T>) => inRequestScope(db.orm, work) },
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
  return (work) => inRequestScope(db.orm, work);
}

/** The transactions a service doing slow work (bcrypt, extraction) opens for `actor`, as the API gives them. */
export function actorTransactions(db: Database, actor: DecisionsActor): ActorTransactions<DecisionsActor> {
  return (work) => runAsActor(db.orm, decisionsModule, actor, work);
}

/** The actor for a user id, as a token's subject gives it (the role is read by `load`). */
export function actorOf(user: { id: number }): DecisionsActor {
  return decisionsModule.actor.parse(String(user.id));
}

/** A bcrypt-shaped placeholder for rows written with raw SQL that no one signs in with. */
export const UNUSED_PASSWORD_HASH = '$2b$10$abcdefghijklmnopqrstuu0123456789012345678901234567890';
