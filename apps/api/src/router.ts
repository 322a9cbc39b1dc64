import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { decisionsRouter } from './routers/decisions.ts';
import { health } from './routers/health.ts';
import { plannerRouter } from './routers/planner.ts';
import { pokerRouter } from './routers/poker.ts';
import { scrumRouter } from './routers/scrum.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  health,
  poker: pokerRouter,
  planner: plannerRouter,
  scrum: scrumRouter,
  decisions: decisionsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
