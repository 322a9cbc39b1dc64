import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { UnauthorizedError } from '@huddle/db';
import { z } from 'zod';

/** GitHub's authorization codes live 10 minutes; a sign-in that takes longer starts again. */
export const SIGN_IN_STATE_TTL_MS = 10 * 60 * 1000;

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds the key and every sealed state to this one use of the API secret. */
const PURPOSE = 'huddle api: github sign-in state';

const sealedSchema = z.object({ codeVerifier: z.string().min(1), expiresAt: z.number().int() });

function stateKey(secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), PURPOSE, 32));
}

/**
 * The pending sign-in, held by the client rather than by the server: `state` is the PKCE verifier and an
 * expiry, encrypted and authenticated with a key derived from the API secret (AES-256-GCM). Every API
 * process can open it (no store to share), the client cannot read or forge it, and it expires on its own;
 * a replay is worthless because GitHub spends a code on its first exchange.
 */
export function sealSignInState(secret: Uint8Array, codeVerifier: string, now = Date.now()): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', stateKey(secret), iv);
  cipher.setAAD(Buffer.from(PURPOSE));
  const payload = JSON.stringify({ codeVerifier, expiresAt: now + SIGN_IN_STATE_TTL_MS });
  const sealed = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The verifier a state sealed by this API holds; anything forged, altered or expired is refused as `state`. */
export function openSignInState(secret: Uint8Array, state: string, now = Date.now()): string {
  const refused = (reason: string) =>
    new UnauthorizedError(`state: ${reason}; start the sign-in again`, { field: 'state' });
  const bytes = Buffer.from(state, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) throw refused('not a sign-in this server started');
  let payload: unknown;
  try {
    const decipher = createDecipheriv('aes-256-gcm', stateKey(secret), bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(PURPOSE));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const opened = Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
    payload = JSON.parse(opened.toString('utf8'));
  } catch {
    throw refused('not a sign-in this server started');
  }
  const pending = sealedSchema.safeParse(payload);
  if (!pending.success) throw refused('not a sign-in this server started');
  if (pending.data.expiresAt <= now) throw refused('the sign-in expired');
  return pending.data.codeVerifier;
}
