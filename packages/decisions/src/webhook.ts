import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  InvalidInputError,
  inRequestScope,
  type ModuleWebhook,
  NotConfiguredError,
  parseInput,
  UnauthorizedError,
} from '@huddle/db';
import type { DecisionsResources } from './resources.ts';
import { webhookTranscriptInputSchema } from './schemas.ts';
import { receiveWebhookTranscript } from './services/transcripts.ts';

/**
 * Signed webhook deliveries of transcripts. The sender signs `<timestamp>.<raw body>` with HMAC-SHA256 and
 * the shared secret, and sends the timestamp (Unix seconds) and `sha256=<hex>` in headers. Signing the
 * timestamp with the body means an old delivery cannot be replayed with a fresh timestamp. Several secrets
 * may be valid at once (the current one and the one it replaces), so a secret is rotated without a gap.
 */

/** Where meeting tools deliver transcripts on the API (its signed webhook route). */
export const DECISIONS_WEBHOOK_PATH = '/webhooks/decisions/transcripts';
/** The shared secret deliveries are signed with; unset, the route answers 412 (not configured). */
export const DECISIONS_WEBHOOK_SECRET_VARIABLE = 'HUDDLE_DECISIONS_WEBHOOK_SECRET';
/** While a secret is rotated: the one being replaced, still accepted until the sender signs with the new one. */
export const DECISIONS_WEBHOOK_PREVIOUS_SECRET_VARIABLE = 'HUDDLE_DECISIONS_WEBHOOK_PREVIOUS_SECRET';

/**
 * The webhook's valid secrets in `env`: the current one, and the previous one while it is rotated out. Empty
 * counts as unset; no current secret, none at all.
 */
export function webhookSecretsFromEnv(env: NodeJS.ProcessEnv): string[] {
  const current = env[DECISIONS_WEBHOOK_SECRET_VARIABLE];
  const previous = env[DECISIONS_WEBHOOK_PREVIOUS_SECRET_VARIABLE];
  if (!current) return [];
  return previous ? [current, previous] : [current];
}

/** How old (or how far in the future) a delivery's timestamp may be: five minutes. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The signature header value for a delivery: `sha256=` + hex HMAC-SHA256 of `<timestamp>.<rawBody>`. */
export function webhookSignature(secret: string, timestamp: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export interface WebhookDelivery {
  /** The secrets a delivery may be signed with: the current one first, then the one being rotated out. */
  secrets: readonly string[];
  /** The request body exactly as received (before any JSON parsing). */
  rawBody: string;
  /** The timestamp header: Unix seconds. */
  timestamp: string | undefined;
  /** The signature header: `sha256=<64 hex digits>`. */
  signature: string | undefined;
  now?: Date;
  toleranceSeconds?: number;
}

/**
 * Verifies a delivery's signature (constant-time) and freshness; an UnauthorizedError says which check
 * failed. Pure: no I/O, so the route can call it before touching the database.
 */
export function verifyWebhookSignature(delivery: WebhookDelivery): void {
  const { secrets, rawBody, timestamp, signature } = delivery;
  const tolerance = delivery.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) {
    throw new UnauthorizedError('timestamp: missing or not Unix seconds', { field: 'timestamp' });
  }
  if (!signature || !/^sha256=[0-9a-f]{64}$/.test(signature)) {
    throw new UnauthorizedError('signature: missing or not sha256=<hex>', { field: 'signature' });
  }
  const nowSeconds = Math.floor((delivery.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) {
    throw new UnauthorizedError(`timestamp: more than ${tolerance} s away from now (a replay?)`, {
      field: 'timestamp',
    });
  }
  const given = Buffer.from(signature);
  // Every secret is compared, in constant time each, so the time taken does not say which one matched.
  const matches = secrets.map((secret) =>
    timingSafeEqual(Buffer.from(webhookSignature(secret, timestamp, rawBody)), given),
  );
  if (!matches.includes(true)) {
    throw new UnauthorizedError('signature: does not match the body', { field: 'signature' });
  }
}

/** The JSON of a delivery's body; malformed JSON is an InvalidInputError (a 400, never a 500). */
export function parseWebhookBody(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new InvalidInputError('body: must be JSON', { field: 'body' });
  }
}

/**
 * `POST /webhooks/decisions/transcripts`: verifies the signature over the raw body with any valid secret
 * (401 when it is wrong or stale), parses it (400 naming the field), records the transcript and its
 * proposed decisions (the extractor runs outside the transaction). 201 with the receipt for a new delivery
 * id, 200 with the same transcript for a redelivery, 409 for a delivery id already used by another
 * delivery; 412 while no secret is configured.
 */
export const transcriptsWebhook: ModuleWebhook<DecisionsResources> = {
  path: DECISIONS_WEBHOOK_PATH,
  async receive({ rawBody, header }, { db, resources }) {
    if (resources.webhookSecrets.length === 0) {
      throw new NotConfiguredError(
        `the decisions webhook is not configured: set ${DECISIONS_WEBHOOK_SECRET_VARIABLE} and restart the server`,
      );
    }
    verifyWebhookSignature({
      secrets: resources.webhookSecrets,
      rawBody,
      timestamp: header('x-huddle-timestamp'),
      signature: header('x-huddle-signature'),
    });
    // Checked before the transaction opens: a malformed delivery costs no database work.
    const delivery = parseInput(webhookTranscriptInputSchema, parseWebhookBody(rawBody));
    const receipt = await receiveWebhookTranscript(
      (work) => inRequestScope(db.orm, work),
      delivery,
      resources,
    );
    return { status: receipt.created ? 201 : 200, body: receipt };
  },
};
