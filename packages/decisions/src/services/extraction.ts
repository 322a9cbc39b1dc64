import { type EntityManager, parseInput } from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import type { DecisionsTranscript } from '../entities/transcript.ts';
import { currentExtractor } from '../extraction/extractor.ts';
import { type Extraction, type TranscriptIdInput, transcriptIdInputSchema } from '../schemas.ts';
import { requireTranscript } from './access.ts';
import { insertDecisions } from './decisions.ts';

/**
 * Runs the extractor over a transcript and records what it found as `proposed` decisions linked to it.
 * Candidates whose title (any case) a decision of this transcript already has — deleted ones included, so a
 * rejected-and-deleted proposal does not come back — are skipped: extracting twice proposes nothing new.
 * Runs of one transcript wait for each other (an advisory lock), so two at once cannot both propose.
 */
export async function proposeFromTranscript(
  em: EntityManager,
  transcript: DecisionsTranscript,
): Promise<Extraction> {
  await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`decisions.extract:${transcript.id}`]);
  const candidates = await currentExtractor().extract(transcript);
  const existing: { title: string }[] = await em.execute(
    'select lower(title) as title from decisions.decisions where transcript_id = ?',
    [transcript.id],
  );
  const seen = new Set(existing.map((row) => row.title));
  const fresh = candidates.filter((candidate) => {
    const key = candidate.title.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const proposed = await insertDecisions(
    em,
    fresh.map((candidate) => ({
      ...candidate,
      projectId: transcript.project.id,
      transcriptId: transcript.id,
      decidedAt: transcript.meetingAt,
      impacts: [],
    })),
  );
  return { transcriptId: transcript.id, proposed, alreadyProposed: candidates.length - fresh.length };
}

/** Proposes decisions from a transcript of a project the actor writes in (member). */
export async function extractDecisions(
  em: EntityManager,
  actor: DecisionsActor,
  input: TranscriptIdInput,
): Promise<Extraction> {
  const { transcriptId } = parseInput(transcriptIdInputSchema, input);
  const transcript = await requireTranscript(em, actor, transcriptId, 'member');
  return proposeFromTranscript(em, transcript);
}
