/** @huddle/decisions: a decision log from meeting transcripts, with vector similarity. */
export { type DecisionsActor, decisionsActor } from './actor.ts';
export {
  type ExtractionScore,
  type LabelledMeetingSet,
  labelledMeetingSetSchema,
  scoreExtractor,
} from './extraction/evaluation.ts';
export { type Extractor, type ProposedDecision, ruleBasedExtractor } from './extraction/extractor.ts';
export {
  DECISIONS_EXTRACTOR_KEY_VARIABLE,
  DECISIONS_EXTRACTOR_MODEL_VARIABLE,
  DECISIONS_EXTRACTOR_TIMEOUT_VARIABLE,
  DECISIONS_EXTRACTOR_URL_VARIABLE,
  type ModelExtractorOptions,
  modelExtractor,
} from './extraction/model-extractor.ts';
export { decisionsModule } from './module.ts';
export { decisionsOperations } from './operations.ts';
export {
  type DecisionsResources,
  decisionsResourcesFromEnv,
  defaultDecisionsResources,
} from './resources.ts';
export * from './schemas.ts';
export {
  DecisionsMinimalSeeder,
  MINIMAL_PASSWORD,
  MINIMAL_PROJECTS,
  MINIMAL_USERS,
} from './seeders/minimal.ts';
export {
  DecisionsRealisticSeeder,
  REALISTIC_PASSWORD,
  REALISTIC_PER_SCALE,
  realisticUserEmail,
} from './seeders/realistic.ts';
export { exportDecisions, importDecisions } from './services/adr.ts';
export {
  createDecision,
  deleteDecision,
  editDecision,
  getDecision,
  listDecisions,
  restoreDecision,
  transitionDecision,
} from './services/decisions.ts';
export { extractDecisions } from './services/extraction.ts';
export {
  addMember,
  archiveProject,
  changeMemberRole,
  createProject,
  getProject,
  listMembers,
  listMyProjects,
  removeMember,
  unarchiveProject,
} from './services/projects.ts';
export { relateDecisions, supersedeChain } from './services/relationships.ts';
export { listRevisions } from './services/revisions.ts';
export { searchDecisions, searchDecisionsStatement } from './services/search.ts';
export { similarDecisions } from './services/similarity.ts';
export {
  createTranscript,
  getTranscript,
  listTranscripts,
  receiveWebhookTranscript,
} from './services/transcripts.ts';
export {
  changePassword,
  changeUserRole,
  createUser,
  deleteUser,
  getCurrentUser,
  listUsers,
  restoreUser,
  signIn,
} from './services/users.ts';
export { type Embedder, hashEmbedding, hashingEmbedder } from './similarity/embedder.ts';
export {
  DECISIONS_WEBHOOK_PATH,
  DECISIONS_WEBHOOK_PREVIOUS_SECRET_VARIABLE,
  DECISIONS_WEBHOOK_SECRET_VARIABLE,
  parseWebhookBody,
  transcriptsWebhook,
  verifyWebhookSignature,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookDelivery,
  webhookSecretsFromEnv,
  webhookSignature,
} from './webhook.ts';
