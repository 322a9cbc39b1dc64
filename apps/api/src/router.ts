import { plannerModule } from '@huddle/planner';
import { pokerModule } from '@huddle/poker';
import { scrumModule } from '@huddle/scrum';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { moduleRouters } from './module-routers.ts';
import { decisionsRouter } from './routers/decisions.ts';
import { health } from './routers/health.ts';
import { router } from './trpc.ts';

/** `health`, and every composed module's procedures under its name (module-routers.ts). */
export const appRouter = router({
  health,
  ...moduleRouters([pokerModule, scrumModule, plannerModule]),
  decisions: decisionsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
