import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { health } from './routers/health.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  health,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
