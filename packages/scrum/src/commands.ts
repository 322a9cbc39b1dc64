import { commandsFor } from '@huddle/db';
import type { ScrumResources } from './module.ts';
import {
  type Invitation,
  inviteUserInputSchema,
  listInvitationsInputSchema,
  revokeInvitationInputSchema,
} from './schemas.ts';
import {
  inviteUserAsOperator,
  listInvitationsAsOperator,
  revokeInvitationAsOperator,
} from './services/users.ts';

const { command } = commandsFor<ScrumResources>();

const githubLogin = { name: 'githubLogin', description: 'the GitHub login' };

function invitationLine(invitation: Invitation): string {
  const state = invitation.acceptedAt ? `accepted (user ${invitation.userId})` : 'pending';
  return `${invitation.githubLogin.padEnd(39)} ${invitation.role.padEnd(15)} ${state}`;
}

/**
 * The operator's commands (`huddle scrum …`): sign-up is closed, so people join by invitation, and the
 * operator's invitation is how a new team gets its first admin.
 */
export const scrumCommands = [
  command({
    name: 'invite',
    description:
      'invite a GitHub login to join with a role (its first GitHub sign-in creates the user): how a new team gets its first admin',
    arguments: [githubLogin],
    options: [
      { name: 'role', description: 'developer (default), designer, tester, project_manager or admin' },
    ],
    input: inviteUserInputSchema,
    run: (em, input) => inviteUserAsOperator(em, input),
    text: (invitation) =>
      `invited ${invitation.githubLogin} as ${invitation.role}: their first GitHub sign-in creates the user`,
  }),
  command({
    name: 'invitations',
    description: 'list the pending invitations, oldest first, 100 at a time',
    options: [{ name: 'cursor', description: 'the nextCursor of the previous page' }],
    input: listInvitationsInputSchema,
    run: (em, input) => listInvitationsAsOperator(em, input),
    text: (page) =>
      [
        ...(page.items.length === 0 ? ['no pending invitations'] : page.items.map(invitationLine)),
        ...(page.nextCursor ? [`more: --cursor ${page.nextCursor}`] : []),
      ].join('\n'),
  }),
  command({
    name: 'uninvite',
    description: 'withdraw a pending invitation: that login can no longer join',
    arguments: [githubLogin],
    input: revokeInvitationInputSchema,
    run: (em, input) => revokeInvitationAsOperator(em, input),
    text: (invitation) => `withdrew the invitation of ${invitation.githubLogin} (${invitation.role})`,
  }),
];
