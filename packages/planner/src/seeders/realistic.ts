import {
  ConflictError,
  type Dictionary,
  type EntityManager,
  insertInChunks,
  type SeedContext,
  type SeededRandom,
  Seeder,
  seededRandom,
} from '@huddle/db';
import { PlannerArtifact } from '../entities/artifact.ts';
import { PlannerChatSession } from '../entities/chat-session.ts';
import { PlannerPlan } from '../entities/plan.ts';
import { PlannerRepository } from '../entities/repository.ts';
import type {
  ChangeAction,
  CodeChangesContent,
  FeaturePlanContent,
  ImplementationStepsContent,
  PlanStatus,
  StoredChatMessage,
} from '../schemas.ts';
import { chatTerms } from '../services/chat.ts';

/** Per unit of scale; each plan has 1–4 versions of 3 artifacts, and one chat session of 20–200 messages. */
export const REALISTIC_PER_SCALE = { repositories: 5, plansPerRepository: 20 } as const;

/** Every timestamp is an offset from here, so a seed gives the same rows on every run. */
const EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The operators the realistic plans name (planner.operators): their tokens work on the seeded data. */
const REALISTIC_OPERATORS = ['ops.ann', 'ops.bo', 'ci.bot'] as const;

const PROJECTS = ['storefront', 'billing', 'identity', 'search', 'notifications', 'warehouse', 'reports'];
const AREAS = ['api', 'web', 'db', 'jobs', 'auth', 'shared', 'ui'];
const MODULES = [
  'orders',
  'invoices',
  'users',
  'sessions',
  'payments',
  'catalog',
  'exports',
  'audit',
  'mailer',
];
const FEATURES = [
  'pay with a saved card',
  'export invoices as CSV',
  'sign in with a magic link',
  'filter orders by status',
  'retry failed webhooks',
  'archive old projects',
  'audit trail of changes',
  'rate-limit the public API',
  'search the help center',
  'bulk-edit catalog prices',
];
const VERBS = [
  'Add',
  'Extract',
  'Validate',
  'Cache',
  'Index',
  'Migrate',
  'Test',
  'Document',
  'Refactor',
  'Wire up',
];
const NOUNS = [
  'the repository layer',
  'a background job',
  'the REST handler',
  'input schemas',
  'the settings page',
];
const SENTENCES = [
  'The change keeps the existing endpoints backwards compatible.',
  'Reads go through the new index, so the list stays fast as it grows.',
  'Errors name the field and the rule, and nothing is written on failure.',
  'A feature flag lets us roll it out to one team first.',
  'The migration is reversible and runs without locking the table for long.',
  'Tests cover the happy path, the concurrent case and the bad inputs.',
  'We measure p99 latency before and after and record both.',
  'Support gets a runbook entry explaining the new failure modes.',
];
const CODE = [
  'const result = await repository.findMany({ where, limit });',
  'if (!input.confirm) throw new InvalidInputError("confirm: must be true");',
  'export function toOutput(row: Row): Output {',
  '  return { id: row.id, createdAt: row.created_at.toISOString() };',
  '}',
  'await em.flush();',
  'logger.info({ orderId }, "order exported");',
  'const cached = cache.get(key) ?? (await load(key));',
];

function seededUuid(random: SeededRandom): string {
  const bytes = Array.from({ length: 16 }, () => random.integer(0, 255));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const sentences = (random: SeededRandom, min: number, max: number) =>
  Array.from({ length: random.integer(min, max) }, () => random.pick(SENTENCES)).join(' ');
const filePath = (random: SeededRandom) =>
  `src/${random.pick(AREAS)}/${random.pick(MODULES)}${random.chance(0.3) ? `/${random.pick(MODULES)}` : ''}.ts`;

function featurePlan(random: SeededRandom, feature: string): FeaturePlanContent {
  const items = (min: number, max: number) =>
    Array.from({ length: random.integer(min, max) }, () => sentences(random, 1, 1));
  return {
    summary: `Customers can ${feature}. ${sentences(random, 3, 6)}`,
    goals: items(2, 5),
    nonGoals: items(1, 3),
    risks: items(1, 4),
  };
}

function implementationSteps(random: SeededRandom): ImplementationStepsContent {
  return {
    steps: Array.from({ length: random.integer(4, 12) }, (_, index) => ({
      title: `${index + 1}. ${random.pick(VERBS)} ${random.pick(NOUNS)}`,
      detail: sentences(random, 2, 5),
      files: Array.from({ length: random.integer(1, 4) }, () => filePath(random)),
    })),
  };
}

function unifiedDiff(random: SeededRandom, lines: number): string {
  const body = Array.from(
    { length: lines },
    () => `${random.pick(['+', '-', ' ', '+'])}${random.pick(CODE)}`,
  );
  // The header counts what the body has, as a real hunk's does (diffs are checked when written).
  const oldLines = body.filter((line) => line[0] !== '+').length;
  const newLines = body.filter((line) => line[0] !== '-').length;
  return `@@ -${random.integer(1, 200)},${oldLines} +${random.integer(1, 200)},${newLines} @@\n${body.join('\n')}\n`;
}

function codeChanges(random: SeededRandom): CodeChangesContent {
  const paths = [...new Set(Array.from({ length: random.integer(3, 10) }, () => filePath(random)))];
  return {
    changes: paths.map((path) => {
      const action = random.pick<ChangeAction>(['modify', 'modify', 'modify', 'create', 'delete', 'rename']);
      return {
        path,
        action,
        ...(action === 'rename' && { previousPath: `${path.slice(0, -3)}.old.ts` }),
        diff: action === 'rename' ? '' : unifiedDiff(random, random.integer(10, 80)),
      };
    }),
  };
}

function chatMessages(random: SeededRandom, start: number, feature: string): StoredChatMessage[] {
  const count = random.integer(20, 200);
  return Array.from({ length: count }, (_, index) => {
    const role = index === 0 ? 'system' : index % 2 === 1 ? 'user' : 'assistant';
    const content =
      index === 0
        ? `You help plan how customers can ${feature}.`
        : sentences(random, 1, role === 'user' ? 2 : 6);
    return { role, content, at: new Date(start + index * MINUTE).toISOString(), terms: chatTerms(content) };
  });
}

/**
 * scale × 5 repositories of 20 plans, each with 1–4 versions (earlier ones archived, the latest a draft,
 * active or completed), every version with a feature plan (~1 KB), 4–12 steps (~2 KB) and 3–10 file changes
 * with unified diffs (~2–20 KB), and one chat session of 20–200 messages on the latest version.
 * Deterministic per seed (ids included); repository paths are placeholders under `/srv/planner-seed/s<seed>`,
 * not work trees, so writing one seed twice is refused (a ConflictError on `seed`).
 */
export class PlannerRealisticSeeder extends Seeder<SeedContext & Dictionary> {
  async run(em: EntityManager, context: SeedContext): Promise<void> {
    const { scale, seed, progress } = context;
    const random = seededRandom(seed);
    await em.execute(
      `insert into planner.operators (name) values ${REALISTIC_OPERATORS.map(() => '(?)').join(', ')} on conflict (name) do nothing`,
      [...REALISTIC_OPERATORS],
    );
    const repositories = Array.from({ length: REALISTIC_PER_SCALE.repositories * scale }, (_, index) => {
      const project = PROJECTS[index % PROJECTS.length]!;
      const createdAt = new Date(EPOCH + index * DAY);
      return {
        id: seededUuid(random),
        name: `${project}-${index + 1}`,
        path: `/srv/planner-seed/s${seed}/${project}-${index + 1}`,
        gitUrl: `https://git.example.com/acme/${project}-${index + 1}.git`,
        defaultBranch: random.chance(0.8) ? 'main' : 'trunk',
        createdAt,
        updatedAt: createdAt,
      };
    });
    if ((await em.count(PlannerRepository, { path: repositories[0]!.path })) > 0) {
      throw new ConflictError(
        `seed: planner already has the realistic data of seed ${seed}; use another seed`,
        { field: 'seed' },
      );
    }
    const planRows = [];
    const artifactRows = [];
    const sessionRows = [];
    for (const repository of repositories) {
      for (let planIndex = 0; planIndex < REALISTIC_PER_SCALE.plansPerRepository; planIndex++) {
        const feature = random.pick(FEATURES);
        const versions = random.integer(1, 4);
        const latestStatus = random.pick<PlanStatus>(['draft', 'active', 'active', 'completed']);
        const start = repository.createdAt.getTime() + random.integer(1, 60) * DAY;
        for (let version = 1; version <= versions; version++) {
          const createdAt = new Date(start + (version - 1) * 3 * DAY);
          const id = seededUuid(random);
          planRows.push({
            id,
            repository: repository.id,
            name: `${feature} (${planIndex + 1})`,
            description: sentences(random, 1, 3),
            targetBranch: `feature/${feature.replaceAll(' ', '-')}-${planIndex + 1}`,
            version,
            status: version === versions ? latestStatus : 'archived',
            createdAt,
            updatedAt: createdAt,
            createdBy: random.pick(REALISTIC_OPERATORS),
          });
          const artifactTime = new Date(createdAt.getTime() + MINUTE);
          artifactRows.push(
            {
              id: seededUuid(random),
              plan: id,
              artifactType: 'feature_plan' as const,
              content: featurePlan(random, feature),
              createdAt: artifactTime,
            },
            {
              id: seededUuid(random),
              plan: id,
              artifactType: 'implementation_steps' as const,
              content: implementationSteps(random),
              createdAt: artifactTime,
            },
            {
              id: seededUuid(random),
              plan: id,
              artifactType: 'code_changes' as const,
              content: codeChanges(random),
              createdAt: artifactTime,
            },
          );
          if (version === versions) {
            const messages = chatMessages(random, createdAt.getTime(), feature);
            sessionRows.push({
              id: seededUuid(random),
              plan: id,
              messages,
              status: latestStatus === 'completed' ? ('completed' as const) : ('active' as const),
              createdAt,
              updatedAt: new Date(messages.at(-1)!.at),
            });
          }
        }
      }
    }
    await insertInChunks(em, PlannerRepository, 'planner.repositories', repositories, progress);
    await insertInChunks(em, PlannerPlan, 'planner.plans', planRows, progress);
    // Smaller chunks for the JSON-heavy tables keep each INSERT statement a few megabytes at most.
    await insertInChunks(em, PlannerArtifact, 'planner.plan_artifacts', artifactRows, progress, 200);
    await insertInChunks(em, PlannerChatSession, 'planner.chat_sessions', sessionRows, progress, 50);
  }
}
