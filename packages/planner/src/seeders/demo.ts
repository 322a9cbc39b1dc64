import type { ArtifactBody, ChatRole } from '../schemas.ts';

/** The minimal seed's demo plan: one artifact of each type and the chat that shaped them. */

export const DEMO_PLAN_NAME = 'Demo: saved cards at checkout';

/** What the demo repository (created when the project's checkout is not under the roots) holds. */
export const DEMO_REPOSITORY_FILES: Record<string, string> = {
  'README.md': '# Demo shop\n\nA tiny shop the planner demo plans changes for.\n',
  'src/checkout.ts':
    'export function checkout(cart: string[]): string {\n  return "paid " + cart.length + " items";\n}\n',
  'src/payment.ts': 'export const providers = ["card"];\n',
};

export const DEMO_ARTIFACTS: ArtifactBody[] = [
  {
    type: 'feature_plan',
    content: {
      summary: 'Let returning customers pay with a card saved on their account.',
      goals: ['Pay in one click with a saved card', 'Keep card numbers out of our database'],
      nonGoals: ['New payment providers'],
      risks: ['Saved card tokens expire and must be refreshed'],
    },
  },
  {
    type: 'implementation_steps',
    content: {
      steps: [
        {
          title: 'Store card tokens',
          detail: 'A table of provider tokens per customer.',
          files: ['src/cards.ts'],
        },
        {
          title: 'Offer the saved card at checkout',
          detail: 'Checkout lists saved cards before the card form.',
          files: ['src/checkout.ts'],
        },
      ],
    },
  },
  {
    type: 'code_changes',
    content: {
      changes: [
        {
          path: 'src/cards.ts',
          action: 'create',
          diff: '@@ -0,0 +1,2 @@\n+export interface SavedCard { token: string; last4: string }\n+export const savedCards = new Map<string, SavedCard[]>();\n',
        },
        {
          path: 'src/checkout.ts',
          action: 'modify',
          diff: '@@ -1,3 +1,4 @@\n+import { savedCards } from "./cards.ts";\n export function checkout(cart: string[]): string {\n   return "paid " + cart.length + " items";\n }\n',
        },
      ],
    },
  },
];

export const DEMO_MESSAGES: { role: ChatRole; content: string }[] = [
  { role: 'system', content: 'You help plan code changes to the demo shop.' },
  { role: 'user', content: 'Customers want to pay with a saved card. What would change?' },
  {
    role: 'assistant',
    content: 'Store provider tokens, not card numbers, and offer them first at checkout.',
  },
];
