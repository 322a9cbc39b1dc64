import {
  ConflictError,
  type Dictionary,
  type EntityManager,
  insertInChunks,
  reserveIds,
  type SeedContext,
  type SeededRandom,
  Seeder,
  seededRandom,
} from '@huddle/db';
import bcrypt from 'bcryptjs';
import { DecisionsDecision } from '../entities/decision.ts';
import { DecisionsProject } from '../entities/project.ts';
import { DecisionsProjectMember } from '../entities/project-member.ts';
import { DecisionsRelationship } from '../entities/relationship.ts';
import { DecisionsTranscript } from '../entities/transcript.ts';
import { DecisionsUser } from '../entities/user.ts';
import type { DecisionsResources } from '../resources.ts';
import type {
  Anomaly,
  Consensus,
  DecisionStatus,
  Participant,
  ProjectRole,
  RelationshipKind,
  TranscriptSource,
  UserRole,
} from '../schemas.ts';
import { decisionText, embedTexts } from '../similarity/embedder.ts';
import { sampleDecisionText } from './corpus.ts';

/** Per unit of scale. */
export const REALISTIC_PER_SCALE = {
  users: 20,
  projects: 4,
  transcriptsPerProject: 10,
  decisionsPerProject: 60,
} as const;
/** Every realistic user signs in with this password. */
export const REALISTIC_PASSWORD = 'password';

/** Every timestamp is an offset from here, so a seed gives the same rows on every run. */
const EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloe',
  'Dev',
  'Elif',
  'Femi',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
  'Kira',
  'Luis',
];
const LAST_NAMES = ['Achebe', 'Brandt', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito'];
const TEAMS = ['Falcon', 'Otter', 'Nimbus', 'Quartz', 'Atlas', 'Ember', 'Juniper', 'Pixel'];
const USER_ROLES: readonly UserRole[] = ['architect', 'lead', 'member', 'member', 'member', 'viewer'];
const IMPACT_AREAS = ['api', 'ops', 'security', 'cost', 'ux', 'data'];
/** Supersede chains per project, each 3–5 decisions deep. */
const CHAINS_PER_PROJECT = 3;

/** The email of realistic user `index`; scale and seed in it keep runs with other seeds from colliding. */
export function realisticUserEmail(seed: number, scale: number, index: number): string {
  return `decisions-s${seed}-x${scale}-u${index}@example.test`;
}

/** A bcrypt salt from the seed (bcrypt's alphabet), so the hash, like every other column, is deterministic. */
function deterministicSalt(random: SeededRandom): string {
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const characters = Array.from({ length: 21 }, () => random.pick([...alphabet]));
  // The 22nd character carries only 2 bits; bcrypt normalises it, so it is chosen from those that survive.
  return `$2b$10$${characters.join('')}${random.pick(['.', 'O', 'e', 'u'])}`;
}

interface PlannedDecision {
  project: number;
  transcript: number | null;
  title: string;
  statement: string;
  rationale: string | null;
  status: DecisionStatus;
  confidence: number;
  decidedAt: Date;
  impacts: { area: string; note?: string }[];
  consensus: Consensus;
  anomalies: Anomaly[];
  createdAt: Date;
}

/** The rows to write, related by index into the plan's arrays (ids exist only once they are reserved). */
interface RealisticPlan {
  users: { email: string; name: string; role: UserRole; createdAt: Date }[];
  projects: { name: string; description: string; createdBy: number; createdAt: Date; archived: boolean }[];
  members: { project: number; user: number; role: ProjectRole; joinedAt: Date }[];
  transcripts: {
    project: number;
    webhookId: string | null;
    title: string;
    source: TranscriptSource;
    meetingAt: Date;
    participants: Participant[];
    content: string;
  }[];
  decisions: PlannedDecision[];
  relationships: { from: number; to: number; kind: RelationshipKind; createdBy: number; createdAt: Date }[];
}

function planRealisticData(scale: number, seed: number): RealisticPlan {
  const random = seededRandom(seed);
  const at = (offset: number) => new Date(EPOCH + offset);
  const plan: RealisticPlan = {
    users: [],
    projects: [],
    members: [],
    transcripts: [],
    decisions: [],
    relationships: [],
  };
  const userCount = REALISTIC_PER_SCALE.users * scale;
  for (let index = 0; index < userCount; index++) {
    plan.users.push({
      email: realisticUserEmail(seed, scale, index),
      name: `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`,
      role: index === 0 ? 'director' : random.pick(USER_ROLES),
      createdAt: at(random.integer(0, 20) * DAY),
    });
  }
  for (let projectIndex = 0; projectIndex < REALISTIC_PER_SCALE.projects * scale; projectIndex++) {
    const owner = random.integer(0, userCount - 1);
    const createdAt = at((21 + projectIndex) * DAY);
    plan.projects.push({
      name: `${random.pick(TEAMS)} ${projectIndex + 1} (seed ${seed}, scale ${scale})`,
      description: `Decisions of team ${random.pick(TEAMS)}.`,
      createdBy: owner,
      createdAt,
      archived: random.chance(0.1),
    });
    const team = new Map<number, ProjectRole>([[owner, 'owner']]);
    const wanted = Math.min(random.integer(3, 8), userCount - 1);
    while (team.size < wanted + 1) {
      const user = random.integer(0, userCount - 1);
      if (!team.has(user))
        team.set(user, random.chance(0.7) ? 'member' : random.chance(0.5) ? 'owner' : 'viewer');
    }
    for (const [user, role] of team) {
      plan.members.push({
        project: projectIndex,
        user,
        role,
        joinedAt: new Date(createdAt.getTime() + HOUR),
      });
    }
    const people = [...team.keys()];
    const transcriptBase = plan.transcripts.length;
    for (let meeting = 0; meeting < REALISTIC_PER_SCALE.transcriptsPerProject; meeting++) {
      const source: TranscriptSource = random.chance(0.5)
        ? 'webhook'
        : random.chance(0.5)
          ? 'upload'
          : 'manual';
      const attendees = people.filter(() => random.chance(0.7));
      const participants = attendees.map((user) => ({
        name: plan.users[user]!.name,
        email: plan.users[user]!.email,
      }));
      const lines = attendees.map(
        (user) => `${plan.users[user]!.name.split(' ')[0]}: ${sampleDecisionText(random).statement}`,
      );
      plan.transcripts.push({
        project: projectIndex,
        webhookId: source === 'webhook' ? `realistic-s${seed}-x${scale}-t${plan.transcripts.length}` : null,
        title: `${random.pick(TEAMS)} sync ${meeting + 1}`,
        source,
        meetingAt: new Date(createdAt.getTime() + (meeting + 1) * 2 * DAY),
        participants,
        content: lines.join('\n') || 'No one spoke.',
      });
    }
    planProjectDecisions(plan, random, projectIndex, people, transcriptBase, createdAt);
  }
  return plan;
}

/**
 * A project's decisions: supersede chains (the newest accepted, the older ones superseded), and the rest in
 * every status, some depending on or relating to earlier ones (always later → earlier, so never a cycle), and
 * a few accepted pairs in conflict, recorded as an anomaly on both.
 */
function planProjectDecisions(
  plan: RealisticPlan,
  random: SeededRandom,
  project: number,
  people: number[],
  transcriptBase: number,
  createdAt: Date,
): void {
  const first = plan.decisions.length;
  const { decisionsPerProject, transcriptsPerProject } = REALISTIC_PER_SCALE;
  let next = 0;
  const chains: number[][] = [];
  const proposalTitles = new Set<string>();
  for (let chain = 0; chain < CHAINS_PER_PROJECT; chain++) {
    const depth = random.integer(3, 5);
    chains.push(Array.from({ length: depth }, (_, step) => next + step));
    next += depth;
  }
  for (let index = 0; index < decisionsPerProject; index++) {
    const text = sampleDecisionText(random);
    const chain = chains.find((candidate) => candidate.includes(index));
    const status: DecisionStatus = chain
      ? index === chain.at(-1)
        ? 'accepted'
        : 'superseded'
      : random.pick(['proposed', 'accepted', 'accepted', 'rejected', 'deprecated'] as const);
    const voters = people.map((user) => plan.users[user]!.name);
    const decidedAt = new Date(createdAt.getTime() + (index + 1) * 6 * HOUR);
    plan.decisions.push({
      project,
      transcript: random.chance(0.6) ? transcriptBase + random.integer(0, transcriptsPerProject - 1) : null,
      ...text,
      rationale: random.chance(0.7) ? text.rationale : null,
      status,
      confidence: random.integer(40, 100) / 100,
      decidedAt,
      impacts: random.chance(0.6) ? [{ area: random.pick(IMPACT_AREAS), note: 'Follow-up needed.' }] : [],
      consensus: {
        for: voters.filter(() => random.chance(0.6)),
        against: voters.filter(() => random.chance(0.1)),
        abstain: [],
      },
      anomalies: [],
      createdAt: decidedAt,
    });
    // One live proposal from transcripts per title (decisions_proposal_title_key_unique): a repeated
    // sample is kept without its transcript, leaving the random sequence as it was.
    const planned = plan.decisions.at(-1)!;
    if (planned.status === 'proposed' && planned.transcript !== null) {
      if (proposalTitles.has(planned.title)) planned.transcript = null;
      else proposalTitles.add(planned.title);
    }
  }
  const author = () => random.pick(people);
  for (const chain of chains) {
    for (let step = 1; step < chain.length; step++) {
      plan.relationships.push({
        from: first + chain[step]!,
        to: first + chain[step - 1]!,
        kind: 'supersedes',
        createdBy: author(),
        createdAt: plan.decisions[first + chain[step]!]!.decidedAt,
      });
    }
  }
  for (let index = next + 1; index < decisionsPerProject; index++) {
    if (!random.chance(0.3)) continue;
    const earlier = random.integer(next, index - 1);
    plan.relationships.push({
      from: first + index,
      to: first + earlier,
      kind: random.pick(['depends_on', 'relates_to', 'amends'] as const),
      createdBy: author(),
      createdAt: plan.decisions[first + index]!.decidedAt,
    });
  }
  const accepted = plan.decisions
    .map((decision, index) => ({ decision, index }))
    .filter(({ decision, index }) => index >= first + next && decision.status === 'accepted');
  for (let pair = 0; pair + 1 < accepted.length && pair < 4; pair += 2) {
    const [a, b] = [accepted[pair]!, accepted[pair + 1]!];
    plan.relationships.push({
      from: b.index,
      to: a.index,
      kind: 'conflicts_with',
      createdBy: author(),
      createdAt: b.decision.decidedAt,
    });
    a.decision.anomalies.push({ kind: 'contradicts', decisionId: b.index });
    b.decision.anomalies.push({ kind: 'contradicts', decisionId: a.index });
  }
}

/**
 * `scale` × (20 users, 4 projects with 4–9 members, 40 transcripts, 240 decisions in every status with
 * embeddings computed in one batch by the module's embedder, supersede chains 3–5 deep, dependencies, conflicts), the same rows for
 * the same `seed`. Runs beside the minimal data and other seeds' data; a second run with the same seed and
 * scale is refused, as its users would already exist. Runs inside the transaction `seed()` opens.
 */
export class DecisionsRealisticSeeder extends Seeder<SeedContext<DecisionsResources> & Dictionary> {
  async run(em: EntityManager, context: SeedContext<DecisionsResources>): Promise<void> {
    const { scale, seed, progress, resources } = context;
    const plan = planRealisticData(scale, seed);
    if ((await em.count(DecisionsUser, { email: plan.users[0]!.email })) > 0) {
      throw new ConflictError(
        `seed: decisions already has the realistic data of seed ${seed} at scale ${scale}; use another seed`,
        { field: 'seed' },
      );
    }
    const passwordHash = bcrypt.hashSync(REALISTIC_PASSWORD, deterministicSalt(seededRandom(seed)));
    const userIds = await reserveIds(em, 'decisions.users', plan.users.length);
    const projectIds = await reserveIds(em, 'decisions.projects', plan.projects.length);
    const transcriptIds = await reserveIds(em, 'decisions.transcripts', plan.transcripts.length);
    const decisionIds = await reserveIds(em, 'decisions.decisions', plan.decisions.length);
    const { vectors, model } = await embedTexts(resources.embedder, plan.decisions.map(decisionText));
    await insertInChunks(
      em,
      DecisionsUser,
      'decisions.users',
      plan.users.map((user, index) => ({
        ...user,
        id: userIds[index]!,
        passwordHash,
        updatedAt: user.createdAt,
      })),
      progress,
    );
    await insertInChunks(
      em,
      DecisionsProject,
      'decisions.projects',
      plan.projects.map(({ archived, createdBy, ...project }, index) => ({
        ...project,
        id: projectIds[index]!,
        createdBy: userIds[createdBy]!,
        updatedAt: project.createdAt,
        archivedAt: archived ? new Date(project.createdAt.getTime() + 90 * DAY) : null,
      })),
      progress,
    );
    await insertInChunks(
      em,
      DecisionsProjectMember,
      'decisions.project_members',
      plan.members.map((member) => ({
        ...member,
        project: projectIds[member.project]!,
        user: userIds[member.user]!,
      })),
      progress,
    );
    await insertInChunks(
      em,
      DecisionsTranscript,
      'decisions.transcripts',
      plan.transcripts.map((transcript, index) => ({
        ...transcript,
        id: transcriptIds[index]!,
        project: projectIds[transcript.project]!,
        createdAt: transcript.meetingAt,
      })),
      progress,
    );
    await insertInChunks(
      em,
      DecisionsDecision,
      'decisions.decisions',
      plan.decisions.map((decision, index) => ({
        ...decision,
        id: decisionIds[index]!,
        project: projectIds[decision.project]!,
        transcript: decision.transcript === null ? null : transcriptIds[decision.transcript]!,
        anomalies: decision.anomalies.map((anomaly) => ({
          ...anomaly,
          decisionId: decisionIds[anomaly.decisionId]!,
        })),
        embedding: vectors[index]!,
        embeddingModel: model,
        updatedAt: decision.createdAt,
      })),
      progress,
      // 384 numbers per row make each row large; smaller statements keep them well under the protocol's limits.
      250,
    );
    await insertInChunks(
      em,
      DecisionsRelationship,
      'decisions.decision_relationships',
      plan.relationships.map((relationship) => ({
        fromDecision: decisionIds[relationship.from]!,
        toDecision: decisionIds[relationship.to]!,
        kind: relationship.kind,
        createdBy: userIds[relationship.createdBy]!,
        createdAt: relationship.createdAt,
      })),
      progress,
    );
  }
}
