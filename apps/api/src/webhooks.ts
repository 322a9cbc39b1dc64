import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Database, HuddleError, inRequestScope, type ModuleResources, parseInput } from '@huddle/db';
import {
  DECISIONS_WEBHOOK_PATH,
  DECISIONS_WEBHOOK_PREVIOUS_SECRET_VARIABLE,
  DECISIONS_WEBHOOK_SECRET_VARIABLE,
  decisionsModule,
  parseWebhookBody,
  receiveWebhookTranscript,
  verifyWebhookSignature,
  webhookTranscriptInputSchema,
} from '@huddle/decisions';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Logger } from 'pino';
import { toTRPCError } from './trpc.ts';

/**
 * Webhooks: plain HTTP routes beside tRPC, for senders that are other tools (meeting recorders), not tRPC
 * clients. Their errors leave through the same mapping as a procedure's (toTRPCError), as JSON
 * `{ error: { code, message, field } }` with the matching HTTP status.
 */

export interface WebhookResources {
  db: Database;
  /** The composed modules' resources: the decisions extractor and embedder read each delivery. */
  moduleResources: ModuleResources;
  /** The secrets decisions webhook deliveries may be signed with (current first); empty: none configured. */
  decisionsWebhookSecrets: readonly string[];
  /** Bodies above this are refused (413) before they are read whole. */
  maxBodyBytes: number;
}

/** The request's access-line record (server.ts): its logger, and the error codes the line reports. */
export interface WebhookRequestRecord {
  log: Logger;
  errors: { code: string }[];
}

/**
 * The decisions webhook's valid secrets from the environment, read once at start: the current one, and the
 * previous one while it is rotated out. Empty counts as unset; no current secret, none at all.
 */
export function decisionsWebhookSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const current = env[DECISIONS_WEBHOOK_SECRET_VARIABLE];
  const previous = env[DECISIONS_WEBHOOK_PREVIOUS_SECRET_VARIABLE];
  if (!current) return [];
  return previous ? [current, previous] : [current];
}

/** Whether `url` is a webhook route (its path only; a query string is ignored). */
export function isWebhookRequest(url: string | undefined): boolean {
  return URL.parse(url ?? '/', 'http://localhost')?.pathname === DECISIONS_WEBHOOK_PATH;
}

/** The body as text, refused with PAYLOAD_TOO_LARGE as soon as it exceeds `maxBytes`. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `body: larger than ${maxBytes} bytes` });
  if (Number(req.headers['content-length']) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof TRPCError) throw error;
    // The sender went away mid-body (ECONNRESET): its mistake, not the database's unavailability as
    // toHuddleError would read that code.
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'body: the request ended before its body did' });
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * `POST /webhooks/decisions/transcripts`: verifies the signature over the raw body with any valid secret
 * (401 when it is wrong or stale), parses it (400 naming the field), records the transcript and its
 * proposed decisions (the extractor runs outside the transaction). 201 with the receipt for a new delivery
 * id, 200 with the same transcript for a redelivery, 409 for a delivery id already used by another
 * delivery. The body and the secrets are never logged.
 */
export async function serveWebhook(
  req: IncomingMessage,
  res: ServerResponse,
  { db, moduleResources, decisionsWebhookSecrets, maxBodyBytes }: WebhookResources,
  record: WebhookRequestRecord,
): Promise<void> {
  try {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new TRPCError({
        code: 'METHOD_NOT_SUPPORTED',
        message: 'method: only POST delivers a transcript',
      });
    }
    if (decisionsWebhookSecrets.length === 0) {
      throw new TRPCError({
        code: 'SERVICE_UNAVAILABLE',
        message: `the decisions webhook is not configured: set ${DECISIONS_WEBHOOK_SECRET_VARIABLE}`,
      });
    }
    const rawBody = await readBody(req, maxBodyBytes);
    verifyWebhookSignature({
      secrets: decisionsWebhookSecrets,
      rawBody,
      timestamp: header(req, 'x-huddle-timestamp'),
      signature: header(req, 'x-huddle-signature'),
    });
    // Checked before the transaction opens: a malformed delivery costs no database work.
    const delivery = parseInput(webhookTranscriptInputSchema, parseWebhookBody(rawBody));
    const receipt = await receiveWebhookTranscript(
      (work) => inRequestScope(db.orm, work),
      delivery,
      moduleResources.of(decisionsModule),
    );
    sendJson(res, receipt.created ? 201 : 200, receipt);
  } catch (thrown) {
    const error = toTRPCError(thrown);
    record.errors.push({ code: error.code });
    if (error.code === 'INTERNAL_SERVER_ERROR')
      record.log.error({ err: error.cause ?? error }, 'webhook failed');
    else record.log.debug({ code: error.code }, 'webhook refused');
    const field = error.cause instanceof HuddleError ? error.cause.constraint.field : undefined;
    // A body not read to its end (too large) cannot leave the connection reusable.
    if (!req.readableEnded) res.setHeader('connection', 'close');
    sendJson(res, getHTTPStatusCodeFromError(error), {
      error: { code: error.code, message: error.message, field: field ?? null },
    });
  }
}
