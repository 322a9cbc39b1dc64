import { createdAt, defineEntity, p, timestamptz } from '@huddle/db';
import { DecisionsUser } from './user.ts';

/**
 * decisions.password_resets (beyond the seed): a one-time link a director (or the CLI) made for a user who
 * cannot sign in. Only the SHA-256 of its secret is stored; redeeming it deletes the row (single use), and a
 * user has at most one (a new one replaces the last).
 */
const DecisionsPasswordResetSchema = defineEntity({
  name: 'DecisionsPasswordReset',
  tableName: 'password_resets',
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () =>
      p.manyToOne(DecisionsUser).ref().deleteRule('cascade').unique('password_resets_user_id_unique'),
    tokenHash: p.string().length(64).unique('password_resets_token_hash_unique'),
    /** The director who made it; null when the CLI did (or that director's row is gone). */
    createdBy: () =>
      p
        .manyToOne(DecisionsUser)
        .ref()
        .nullable()
        .deleteRule('set null')
        .index('password_resets_created_by_id_index'),
    createdAt: createdAt(),
    expiresAt: timestamptz(),
  },
});
export class DecisionsPasswordReset extends DecisionsPasswordResetSchema.class {}
DecisionsPasswordResetSchema.setClass(DecisionsPasswordReset);
