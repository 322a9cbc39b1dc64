import type { ArtifactInput } from '../src/schemas.ts';

/** One artifact of each type, as a caller would write them for a "saved cards" plan. */
export const FEATURE_PLAN: ArtifactInput = {
  type: 'feature_plan',
  content: {
    summary: 'Let customers pay with a saved card.',
    goals: ['One-click checkout', 'PCI scope unchanged'],
    nonGoals: ['New payment providers'],
    risks: ['Token expiry'],
  },
};
export const STEPS: ArtifactInput = {
  type: 'implementation_steps',
  content: {
    steps: [
      { title: 'Add card tokens table', detail: 'Migration and entity.', files: ['src/db/cards.ts'] },
      {
        title: 'Checkout uses saved card',
        detail: 'Offer the saved card first.',
        files: ['src/checkout.ts'],
      },
    ],
  },
};
export const CODE_CHANGES: ArtifactInput = {
  type: 'code_changes',
  content: {
    changes: [
      { path: 'src/db/cards.ts', action: 'create', diff: '@@ -0,0 +1 @@\n+export const cards = [];\n' },
      { path: 'src/checkout.ts', action: 'modify', diff: '@@ -1 +1 @@\n-old\n+new\n' },
      { path: 'src/pay.ts', action: 'rename', previousPath: 'src/payment.ts', diff: '' },
    ],
  },
};
