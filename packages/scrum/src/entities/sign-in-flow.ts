import { createdAt, defineEntity, p, timestamptz } from '@huddle/db';

/**
 * scrum.sign_in_flows (beyond the seed): a GitHub sign-in between its start and its callback, held by the
 * server. Only hashes of the flow's `state` and of the secret its client keeps are stored, and the PKCE
 * verifier is sealed with a key only that secret gives, so a row read from the database signs nobody in.
 * Rows are deleted when used and purged once expired. No request touches the table (no grant; row-level
 * security on and no policy, so even a grant would show nothing): sign-in runs as the owner.
 */
const ScrumSignInFlowSchema = defineEntity({
  name: 'ScrumSignInFlow',
  tableName: 'sign_in_flows',
  properties: {
    id: p.integer().primary().autoincrement(),
    /** SHA-256 of `state`, hex. */
    stateHash: p.string().length(64).unique('sign_in_flows_state_hash_unique'),
    /** SHA-256 of the flow secret the client that started the sign-in keeps, hex. */
    clientHash: p.string().length(64),
    /** The PKCE verifier, AES-256-GCM under a key derived from the flow secret (base64url). */
    sealedVerifier: p.string().length(200),
    createdAt: createdAt(),
    expiresAt: timestamptz().index('sign_in_flows_expires_at_index'),
  },
  rowLevelSecurity: true,
});
export class ScrumSignInFlow extends ScrumSignInFlowSchema.class {}
ScrumSignInFlowSchema.setClass(ScrumSignInFlow);
