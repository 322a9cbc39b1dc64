/** @huddle/decisions: a decision log from meeting transcripts, with vector similarity. */
export { type DecisionsActor, decisionsActor } from './actor.ts';
export { decisionsModule } from './module.ts';
export * from './schemas.ts';
export {
  DecisionsMinimalSeeder,
  MINIMAL_PASSWORD,
  MINIMAL_PROJECTS,
  MINIMAL_USERS,
} from './seeders/minimal.ts';
