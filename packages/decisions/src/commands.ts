import { commandsFor } from '@huddle/db';
import type { DecisionsResources } from './resources.ts';
import { passwordResetByEmailInputSchema } from './schemas.ts';
import { createPasswordResetByEmail } from './services/password-resets.ts';

const { command } = commandsFor<DecisionsResources>();

/** The operator's commands (`huddle decisions …`). */
export const decisionsCommands = [
  command({
    name: 'password-reset',
    description:
      'make a one-time password reset link for a user who cannot sign in (valid 1 hour, replaces an earlier one): they redeem it with decisions.auth.resetPassword',
    arguments: [{ name: 'email', description: "the user's email" }],
    input: passwordResetByEmailInputSchema,
    run: (em, input) => createPasswordResetByEmail(em, input),
    text: (reset) =>
      `password reset for ${reset.email} (user ${reset.userId}), valid until ${reset.expiresAt}; hand them this token (shown once) for decisions.auth.resetPassword:\n${reset.token}`,
  }),
];
