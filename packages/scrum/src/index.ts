/** @huddle/scrum: tasks, notifications, chat and triage, with row-level security enforced by the database. */
export { type ScrumActor, scrumActor } from './actor.ts';
export { scrumModule } from './module.ts';
export * from './schemas.ts';
export { MINIMAL_USERS, SAMPLE_TASK, ScrumMinimalSeeder } from './seeders/minimal.ts';
