export {
  type Dictionary,
  defineEntity,
  type EntityName,
  type InferEntity,
  type Loaded,
  LockMode,
  p,
  type Ref,
  type RequiredEntityData,
  raw,
  sql,
} from '@mikro-orm/core';
export { Migration } from '@mikro-orm/migrations';
export { Seeder } from '@mikro-orm/seeder';
export {
  type ActorLoad,
  type ActorRow,
  type ActorSpec,
  type ModuleActor,
  parseSerialSubject,
} from './actor.ts';
export { type OutputColumns, outputColumnsSql, outputObjectSql } from './answers.ts';
export { type BackupOptions, type TableProgress, writeBackup } from './backup/dump.ts';
export { type BackupManifest, verifyBackup } from './backup/format.ts';
export { type RestoreOptions, type RestoreResult, restoreBackup } from './backup/restore.ts';
export {
  GENERATED_END,
  GENERATED_START,
  mergeSchemaDoc,
  renderSchemaDocs,
} from './catalog/docs.ts';
// The catalog as the test harness's schema snapshots read it (@huddle/testing).
export {
  type CatalogFunction,
  type CatalogSchemaGrant,
  type CatalogSequence,
  type CatalogTable,
  readCatalog,
  readFunctions,
  readSchemaGrants,
  readSequences,
} from './catalog/introspect.ts';
export {
  type LintAllowList,
  type LintFinding,
  type LintRule,
  lintSchema,
  parseLintAllowList,
} from './catalog/lint.ts';
export { analyzeTables, type TableMaintenance } from './catalog/maintenance.ts';
export { inSqlTransaction } from './catalog/sql.ts';
export {
  type CommandField,
  type CommandOption,
  commandsFor,
  type ModuleCommand,
} from './commands.ts';
export {
  type Database,
  type EntityManager,
  type HuddleOrm,
  type OpenDatabaseOptions,
  openDatabase,
} from './database.ts';
export {
  archive,
  checkIn,
  createdAt,
  fixTriggerSearchPath,
  flushAndReload,
  isoTimestampSql,
  keysetTimestampSql,
  softDelete,
  sqlStringList,
  timestamps,
  timestamptz,
  touchUpdatedAt,
} from './entity.ts';
export {
  type DatabaseTarget,
  databaseTargetFromEnv,
  redactUrl,
  type SessionLimits,
  sessionLimitsFromEnv,
} from './env.ts';
export * from './errors.ts';
export { type EventListener, publish, type Unlisten } from './events.ts';
export {
  createRequestRole,
  grantRequestAccess,
  moveRequestAccess,
  revokeRequestAccess,
  type TablePrivilege,
} from './grants.ts';
export {
  claimIdempotencyKey,
  type IdempotencyClaim,
  type IdempotentCall,
  recordIdempotentResult,
} from './idempotency.ts';
export { parseInput } from './input.ts';
export { findJob, type JobRunOptions, type JobRunResult, listJobs, runJob } from './jobs.ts';
export {
  type MigrateDownOptions,
  type MigrationSelection,
  type ModuleMigrationCheck,
  type ModuleMigrationStatus,
  migrateDown,
  migrateUp,
  migrationCheck,
  migrationDiff,
  migrationStatus,
  requireMigrated,
} from './migrations.ts';
export {
  type DemoContext,
  type DomainModule,
  type FuzzFixtureGeneration,
  findModule,
  type JobReport,
  type ModuleFuzzFixtures,
  type ModuleJob,
  ModuleResources,
  type ModuleSeeder,
  type ModuleWebhook,
  type ModuleWithActors,
  migrationList,
  orderModules,
  type ResourcesOf,
  type SeedContext,
  selectModules,
  type WebhookRequest,
  withDependencies,
} from './module.ts';
export {
  type ActorOperation,
  type ActorTransactions,
  type AnonymousTransactions,
  type Answer,
  callOperation,
  type EventOf,
  type InputSchema,
  type Operation,
  type Operations,
  operationsFor,
  type ParsedInput,
  type PublicOperation,
  type SignedIn,
  type SignInOperation,
  type SteppedOperation,
  type SubscriptionOperation,
  type Transactions,
} from './operations.ts';
export { platformModule } from './platform.ts';
export { type PoolUsage, poolUsage } from './pool.ts';
export {
  executePrepared,
  type PreparedStatement,
  preparedStatement,
} from './prepared.ts';
export { primaryWalPosition, type ReadOnlyRequest } from './replicas.ts';
export {
  type ActorScopeOptions,
  inRequestScope,
  loadActor,
  type RequestScopeOptions,
  type RequestWork,
  runAnonymously,
  runAsActor,
} from './request.ts';
export { APPLICATION_ROLE, READ_ONLY_ROLE, readOnlySelectAll, rolePolicy } from './roles.ts';
export { newOneTimeSecret, type OneTimeSecret, oneTimeSecretHash } from './secrets.ts';
export { MAX_SEED_SCALE, type SeedKind, type SeedOptions, type SeedResult, seed } from './seed.ts';
export { insertInChunks, reserveIds, type SeededRandom, seededRandom } from './seeding.ts';
export {
  type CreatedServiceKey,
  createServiceKey,
  deleteEndedSessionsJob,
  type LiveSession,
  listServiceKeys,
  listSessions,
  type OpenedSession,
  openSession,
  parseServiceKey,
  type RefreshOutcome,
  type RevocationReason,
  readOnlyKeyError,
  refreshSession,
  refreshTokenReusedError,
  revokeServiceKey,
  revokeSession,
  revokeSessions,
  SERVICE_KEY_PREFIX,
  SESSION_REVOCATIONS_CHANNEL,
  type ServiceKeyClaims,
  type ServiceKeySummary,
  type SessionCredential,
  type SessionOrigin,
  type SessionPolicy,
  type SessionRevocation,
  type SessionSubject,
  type SessionSummary,
  sessionEndedError,
  sessionPolicyFromEnv,
  sessionRevocationSchema,
} from './sessions.ts';
export { cosineDistance, toVectorLiteral, VectorType } from './vector.ts';
