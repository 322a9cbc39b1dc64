import { domainModules } from '@huddle/composition';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { moduleRouters } from './module-routers.ts';
import { authRouter } from './routers/auth.ts';
import { health } from './routers/health.ts';
import { router } from './trpc.ts';

/**
 * `health`, the platform's sessions and service keys (`auth`), and every composed module's procedures under
 * its name (module-routers.ts).
 */
export const appRouter = router({
  health,
  auth: authRouter(domainModules),
  ...moduleRouters(domainModules),
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
