import type { decisionPageSchema, transitionDecisionInputSchema } from '@huddle/decisions';
import type { createPlanInputSchema, planDetailSchema } from '@huddle/planner';
import type { pokerEventSchema } from '@huddle/poker';
import type {
  chatEventSchema,
  createTaskInputSchema,
  notificationEventSchema,
  taskPageSchema,
} from '@huddle/scrum';
import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { SubscribedMessage } from '../src/event-stream.ts';
import type { RouterInputs, RouterOutputs } from '../src/router.ts';

/**
 * What the typed client infers for a few procedures of every module, pinned: the router is derived from the
 * modules' declared operations, and a program's types must stay exactly what they were when each procedure was
 * written by hand. These are checked by the type checker (`pnpm typecheck`); a mismatch fails it.
 */
describe('the typed client infers each procedure’s input and output', () => {
  it('poker', () => {
    expectTypeOf<RouterInputs['poker']['me']>().toEqualTypeOf<void>();
    expectTypeOf<RouterOutputs['poker']['me']>().toEqualTypeOf<{
      id: number;
      name: string;
      email: string | null;
      createdAt: string;
      lastActive: string;
    }>();
    expectTypeOf<RouterInputs['poker']['sessions']['create']>().toEqualTypeOf<{
      name: string;
      deckKey?: 'fibonacci' | 'tshirt' | 'powers_of_two';
      deckId?: number;
    }>();
    expectTypeOf<RouterOutputs['poker']['events']>().toEqualTypeOf<
      AsyncIterable<z.output<typeof pokerEventSchema> | SubscribedMessage>
    >();
  });

  it('scrum', () => {
    expectTypeOf<RouterInputs['scrum']['tasks']['create']>().toEqualTypeOf<
      z.input<typeof createTaskInputSchema>
    >();
    expectTypeOf<RouterOutputs['scrum']['tasks']['mine']>().toEqualTypeOf<z.output<typeof taskPageSchema>>();
    expectTypeOf<RouterInputs['scrum']['notifications']['unreadCount']>().toEqualTypeOf<void>();
    expectTypeOf<RouterOutputs['scrum']['notifications']['events']>().toEqualTypeOf<
      AsyncIterable<z.output<typeof notificationEventSchema> | SubscribedMessage>
    >();
    expectTypeOf<RouterOutputs['scrum']['chat']['events']>().toEqualTypeOf<
      AsyncIterable<z.output<typeof chatEventSchema> | SubscribedMessage>
    >();
  });

  it('decisions', () => {
    expectTypeOf<RouterInputs['decisions']['auth']['signIn']>().toEqualTypeOf<{
      email: string;
      password: string;
    }>();
    expectTypeOf<RouterOutputs['decisions']['auth']['signIn']>().toEqualTypeOf<{
      user: {
        id: number;
        email: string;
        name: string;
        role: 'director' | 'architect' | 'lead' | 'member' | 'viewer';
        createdAt: string;
        updatedAt: string;
        deletedAt: string | null;
      };
      token: string;
      expiresAt: string;
      refreshToken: string;
      sessionId: string;
    }>();
    expectTypeOf<RouterInputs['decisions']['decisions']['transition']>().toEqualTypeOf<
      z.input<typeof transitionDecisionInputSchema>
    >();
    expectTypeOf<RouterOutputs['decisions']['decisions']['list']>().toEqualTypeOf<
      z.output<typeof decisionPageSchema>
    >();
  });

  it('planner', () => {
    expectTypeOf<RouterInputs['planner']['plans']['create']>().toEqualTypeOf<{
      repositoryId: string;
      name: string;
      description?: string | null | undefined;
      targetBranch?: string | undefined;
    }>();
    expectTypeOf<RouterInputs['planner']['plans']['create']>().toEqualTypeOf<
      z.input<typeof createPlanInputSchema>
    >();
    expectTypeOf<RouterOutputs['planner']['plans']['latest']>().toEqualTypeOf<
      z.output<typeof planDetailSchema>
    >();
  });
});
