import { type ActorTransactions, type EntityManager, toVectorLiteral } from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import type { ProposedDecision } from '../extraction/extractor.ts';
import type { DecisionsResources } from '../resources.ts';
import type {
  DecisionStatus,
  DuplicateProposal,
  Extraction,
  Participant,
  TranscriptIdInput,
} from '../schemas.ts';
import { decisionText, type Embeddings, embedTexts } from '../similarity/embedder.ts';
import { requireProjectRole, requireTranscript } from './access.ts';
import { insertDecisions } from './decisions.ts';
import { toTranscript } from './outputs.ts';
import { prepareNearestNeighbourScan } from './similarity.ts';

/** What the extractor found in a transcript, embedded: the slow part of extraction, done outside transactions. */
export interface Proposals {
  candidates: ProposedDecision[];
  embeddings: Embeddings;
}

/** Runs the extractor over a transcript and embeds what it found; call it with no transaction open. */
export async function proposalsFor(
  transcript: { title: string; content: string; participants: Participant[] },
  { extractor, embedder }: DecisionsResources,
): Promise<Proposals> {
  const candidates = await extractor.extract(transcript);
  const embeddings =
    candidates.length > 0
      ? await embedTexts(embedder, candidates.map(decisionText))
      : { vectors: [], model: '' };
  return { candidates, embeddings };
}

/**
 * The cosine distance at or under which a candidate says what an existing decision says. Calibrated on the
 * hashing embedder: the same decision worded "for" or "as" the event bus is 0.02 apart, the same words
 * about another subject ("for the audit log") 0.38, another day ("ship on Monday") 0.54.
 */
export const NEAR_DUPLICATE_DISTANCE = 0.1;

/** A title as compared: the key of `decisions_proposal_title_key_unique` (the same expression, so it serves). */
const titleKeySql = (title: string) => `btrim(lower(regexp_replace(${title}, '[^[:alnum:]]+', ' ', 'g')))`;

interface CandidateMatch {
  position: number;
  key: string;
  proposed_before: boolean;
  same_id: number | null;
  same_title: string | null;
  same_status: DecisionStatus | null;
  near_id: number | null;
  near_title: string | null;
  near_status: DecisionStatus | null;
  distance: number | null;
}

/**
 * For each candidate, in one statement: whether this transcript proposed its title before (deleted
 * decisions too), the project's live decision with the same title as compared (idx_decisions_project_
 * title_key), and the nearest live decision by the same embedder (the HNSW index).
 */
function candidateMatchesQuery(
  transcript: { id: number; projectId: number },
  candidates: readonly ProposedDecision[],
  { vectors, model }: Embeddings,
): { sql: string; params: unknown[] } {
  const rows = candidates.map(({ title }, position) => ({
    position,
    title,
    embedding: toVectorLiteral(vectors[position]!),
  }));
  return {
    sql: `select c.position, ${titleKeySql('c.title')} as key,
        exists (select 1 from decisions.decisions d
                where d.transcript_id = ? and ${titleKeySql('d.title')} = ${titleKeySql('c.title')}) as proposed_before,
        same.id as same_id, same.title as same_title, same.status as same_status,
        near.id as near_id, near.title as near_title, near.status as near_status, near.distance
      from jsonb_to_recordset(?::jsonb) as c(position int, title text, embedding text)
      left join lateral (
        select d.id, d.title, d.status from decisions.decisions d
        where d.project_id = ? and d.deleted_at is null and ${titleKeySql('d.title')} = ${titleKeySql('c.title')}
        order by d.id limit 1) same on true
      left join lateral (
        select d.id, d.title, d.status, d.embedding <=> c.embedding::vector as distance from decisions.decisions d
        where d.project_id = ? and d.deleted_at is null and d.embedding_model = ?
        order by d.embedding <=> c.embedding::vector limit 1) near on true
      order by c.position`,
    params: [transcript.id, JSON.stringify(rows), transcript.projectId, transcript.projectId, model],
  };
}

/**
 * Records what the extractor found in a transcript as `proposed` decisions linked to it. A candidate is
 * skipped when this transcript proposed its title (any case) before — deleted ones included, so a
 * rejected-and-deleted proposal does not come back: extracting twice proposes nothing new. It is skipped
 * and reported as a duplicate, with the decision it repeats, when the project has a live decision with the
 * same title as compared (case, spacing, punctuation aside) or one whose embedding is within
 * NEAR_DUPLICATE_DISTANCE: the same meeting delivered twice, or a decision taken again, is not proposed
 * twice. Ingests into one project wait for each other here (an advisory lock), so two at once cannot both
 * propose one decision; the database holds live proposals from transcripts to one per title as compared
 * (decisions_proposal_title_key_unique) whatever path writes them.
 */
export async function recordProposals(
  em: EntityManager,
  transcript: { id: number; projectId: number; meetingAt: Date },
  { candidates, embeddings }: Proposals,
): Promise<Extraction> {
  await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`decisions.ingest:${transcript.projectId}`]);
  if (candidates.length === 0) {
    return { transcriptId: transcript.id, proposed: [], alreadyProposed: 0, duplicates: [] };
  }
  await prepareNearestNeighbourScan(em, 1);
  const matches = candidateMatchesQuery(transcript, candidates, embeddings);
  const rows: CandidateMatch[] = await em.execute(matches.sql, matches.params);
  const seen = new Set<string>();
  const fresh: { candidate: ProposedDecision; vector: number[] }[] = [];
  const duplicates: DuplicateProposal[] = [];
  for (const row of rows) {
    const candidate = candidates[row.position]!;
    if (row.proposed_before || seen.has(row.key)) continue;
    seen.add(row.key);
    const distance = row.distance === null ? null : Number(row.distance);
    if (row.same_id !== null) {
      duplicates.push({
        title: candidate.title,
        decisionId: row.same_id,
        decisionTitle: row.same_title!,
        status: row.same_status!,
        match: 'title',
        distance: row.near_id === row.same_id ? distance : null,
      });
    } else if (row.near_id !== null && distance !== null && distance <= NEAR_DUPLICATE_DISTANCE) {
      duplicates.push({
        title: candidate.title,
        decisionId: row.near_id,
        decisionTitle: row.near_title!,
        status: row.near_status!,
        match: 'meaning',
        distance,
      });
    } else fresh.push({ candidate, vector: embeddings.vectors[row.position]! });
  }
  const proposed = await insertDecisions(
    em,
    fresh.map(({ candidate }) => ({
      ...candidate,
      projectId: transcript.projectId,
      transcriptId: transcript.id,
      decidedAt: transcript.meetingAt,
      impacts: [],
    })),
    { vectors: fresh.map(({ vector }) => vector), model: embeddings.model },
  );
  return {
    transcriptId: transcript.id,
    proposed,
    alreadyProposed: candidates.length - fresh.length - duplicates.length,
    duplicates,
  };
}

/**
 * Proposes decisions from a transcript of a project the actor writes in (member). Three steps, so that no
 * transaction is open while the extractor reads and the embedder embeds: one transaction reads the
 * transcript, the extractor and the embedder run outside any, and a second transaction checks the actor's
 * access again and records the proposals.
 */
export async function extractDecisions(
  transactions: ActorTransactions<DecisionsActor>,
  input: TranscriptIdInput,
  resources: DecisionsResources,
): Promise<Extraction> {
  const { transcriptId } = input;
  const transcript = await transactions(async (em, actor) =>
    toTranscript(await requireTranscript(em, actor, transcriptId, 'member')),
  );
  const proposals = await proposalsFor(transcript, resources);
  return transactions(async (em, actor) => {
    await requireProjectRole(em, actor, transcript.projectId, 'member', 'transcriptId');
    return recordProposals(
      em,
      { id: transcript.id, projectId: transcript.projectId, meetingAt: new Date(transcript.meetingAt) },
      proposals,
    );
  });
}
