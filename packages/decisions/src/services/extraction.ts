import type { ActorTransactions, EntityManager } from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import type { ProposedDecision } from '../extraction/extractor.ts';
import type { DecisionsResources } from '../resources.ts';
import type { Extraction, Participant, TranscriptIdInput } from '../schemas.ts';
import { decisionText, type Embeddings, embedTexts } from '../similarity/embedder.ts';
import { requireProjectRole, requireTranscript } from './access.ts';
import { insertDecisions } from './decisions.ts';
import { toTranscript } from './outputs.ts';

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
 * Records what the extractor found in a transcript as `proposed` decisions linked to it. Candidates whose
 * title (any case) a decision of this transcript already has — deleted ones included, so a
 * rejected-and-deleted proposal does not come back — are skipped: extracting twice proposes nothing new.
 * Runs of one transcript wait for each other here (an advisory lock), so two at once cannot both propose.
 */
export async function recordProposals(
  em: EntityManager,
  transcript: { id: number; projectId: number; meetingAt: Date },
  { candidates, embeddings }: Proposals,
): Promise<Extraction> {
  await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`decisions.extract:${transcript.id}`]);
  const existing: { title: string }[] = await em.execute(
    'select lower(title) as title from decisions.decisions where transcript_id = ?',
    [transcript.id],
  );
  const seen = new Set(existing.map((row) => row.title));
  const fresh = candidates.flatMap((candidate, index) => {
    const key = candidate.title.toLowerCase();
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ candidate, vector: embeddings.vectors[index]! }];
  });
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
  return { transcriptId: transcript.id, proposed, alreadyProposed: candidates.length - fresh.length };
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
