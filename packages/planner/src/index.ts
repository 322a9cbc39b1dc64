/** @huddle/planner: versioned code-change plans over local git repositories, on Huddle's shared data layer. */
export { type PlannerActor, plannerActor } from './actor.ts';
export { plannerModule } from './module.ts';
export * from './schemas.ts';
