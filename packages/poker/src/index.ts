/** @huddle/poker: planning poker on Huddle's shared data layer. */
export { type PokerActor, pokerActor } from './actor.ts';
export { pokerJobs } from './jobs.ts';
export { pokerModule } from './module.ts';
export { pokerOperations } from './operations.ts';
export * from './schemas.ts';
export { DEMO_SESSION_NAME, MINIMAL_USERS, PokerMinimalSeeder } from './seeders/minimal.ts';
export { PokerRealisticSeeder, REALISTIC_PER_SCALE, realisticUserEmail } from './seeders/realistic.ts';
export { createDeck, deleteDeck, listDecks } from './services/decks.ts';
export { exportSession, exportSessionCsv } from './services/export.ts';
export {
  completeSession,
  createSession,
  getSession,
  handOverSession,
  joinSession,
  listMySessions,
  pauseSession,
  removeParticipant,
  renameSession,
  resumeSession,
  rotateJoinCode,
  setSpectator,
} from './services/sessions.ts';
export {
  addStory,
  completeStory,
  deleteStory,
  editStory,
  importStories,
  reorderStories,
  startVoting,
} from './services/stories.ts';
export { getStorySummary, votingStatistics } from './services/summary.ts';
export { findUserByEmail, getCurrentUser, join } from './services/users.ts';
export { castVote, revealVotes, revote } from './services/votes.ts';
