import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Database,
  type DomainModule,
  HuddleError,
  type ModuleResources,
  type ModuleWebhook,
} from '@huddle/db';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Logger } from 'pino';
import { toTRPCError } from './trpc.ts';

/**
 * Webhooks: the composed modules' plain HTTP routes beside tRPC (DomainModule.webhooks), for senders that are
 * other tools (meeting recorders), not tRPC clients. Their errors leave through the same mapping as a
 * procedure's (toTRPCError), as JSON `{ error: { code, message, field } }` with the matching HTTP status.
 */

export interface WebhookResources {
  db: Database;
  /** The composed modules' resources: what each webhook receives as its module's. */
  moduleResources: ModuleResources;
  /** Bodies above this are refused (413) before they are read whole. */
  maxBodyBytes: number;
}

/** A composed module's webhook, found by its path. */
export interface WebhookRoute {
  module: DomainModule;
  webhook: ModuleWebhook;
}

/** Every composed module's webhooks, by path. */
export function webhookRoutes(modules: readonly DomainModule[]): Map<string, WebhookRoute> {
  return new Map(
    modules.flatMap((module) =>
      (module.webhooks ?? []).map((webhook) => [webhook.path, { module, webhook }] as const),
    ),
  );
}

/** The webhook `url` names (its path only; a query string is ignored), if any. */
export function webhookRouteOf(
  routes: ReadonlyMap<string, WebhookRoute>,
  url: string | undefined,
): WebhookRoute | undefined {
  const pathname = URL.parse(url ?? '/', 'http://localhost')?.pathname;
  return pathname === undefined ? undefined : routes.get(pathname);
}

/** The request's access-line record (server.ts): its logger, and the error codes the line reports. */
export interface WebhookRequestRecord {
  log: Logger;
  errors: { code: string }[];
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
 * A delivery to a module's webhook: POST only, the body read up to `maxBodyBytes`, then the module's
 * `receive` (which verifies, parses and records). The body and any secret are never logged.
 */
export async function serveWebhook(
  req: IncomingMessage,
  res: ServerResponse,
  { module, webhook }: WebhookRoute,
  { db, moduleResources, maxBodyBytes }: WebhookResources,
  record: WebhookRequestRecord,
): Promise<void> {
  try {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new TRPCError({ code: 'METHOD_NOT_SUPPORTED', message: 'method: only POST delivers' });
    }
    const rawBody = await readBody(req, maxBodyBytes);
    const answer = await webhook.receive(
      { rawBody, header: (name) => header(req, name) },
      { db, resources: moduleResources.of(module) },
    );
    sendJson(res, answer.status, answer.body);
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
