import {
  type ActorSpec,
  ConfigurationError,
  type DomainModule,
  findModule,
  type ModuleActor,
} from '@huddle/db';
import { decisionsModule } from '@huddle/decisions';
import { plannerModule } from '@huddle/planner';
import { pokerModule } from '@huddle/poker';
import { scrumModule } from '@huddle/scrum';

/**
 * The domain modules the API, the CLI and the benchmarks serve, in any order: dependsOn decides migration order.
 * Typed by the modules' own names (their exact types, which the API's procedures are derived from), so the
 * published declarations refer to each package rather than spell its internals out.
 */
export const domainModules: readonly [
  typeof pokerModule,
  typeof scrumModule,
  typeof decisionsModule,
  typeof plannerModule,
] = [pokerModule, scrumModule, decisionsModule, plannerModule];

/** How a token subject of module `name` becomes its actor; a module without users has none to sign in. */
export function actorSpecOf(modules: readonly DomainModule[], name: string): ActorSpec<ModuleActor> {
  const { actor } = findModule(modules, name);
  if (!actor) throw new ConfigurationError(`module: ${name} has no users to issue tokens for`);
  return actor;
}
