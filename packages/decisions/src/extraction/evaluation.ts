import { z } from 'zod';
import type { Extractor } from './extractor.ts';

/**
 * A labelled set of meetings for measuring an extractor: each meeting's lines (`Name: text`) and the
 * decisions it makes, each with the words a proposed title must mention to count as that decision.
 */
export const labelledMeetingSetSchema = z.strictObject({
  description: z.string(),
  transcripts: z.array(
    z.strictObject({
      id: z.string().min(1),
      lines: z.array(z.string()).min(1),
      decisions: z.array(
        z.strictObject({ title: z.string().min(1), mentions: z.array(z.string().min(1)).min(1) }),
      ),
    }),
  ),
});
export type LabelledMeetingSet = z.infer<typeof labelledMeetingSetSchema>;

/** How an extractor did on a labelled set: counts, precision and recall, and what it missed or got wrong. */
export interface ExtractionScore {
  meetings: number;
  expected: number;
  proposed: number;
  /** Proposals that are one of the expected decisions (each expected decision counted once). */
  matched: number;
  /** matched / proposed (1 when nothing was proposed). */
  precision: number;
  /** matched / expected (1 when nothing was expected). */
  recall: number;
  missed: { meeting: string; title: string }[];
  wrong: { meeting: string; title: string }[];
}

/** Whether a proposed title mentions every word the label asks for (any case). */
function mentionsAll(title: string, mentions: readonly string[]): boolean {
  const lower = title.toLowerCase();
  return mentions.every((mention) => lower.includes(mention.toLowerCase()));
}

/**
 * Runs `extractor` over every meeting of `set` and scores it: a proposal matches the first expected
 * decision of its meeting, not yet matched, whose mentions its title contains; the others are wrong.
 */
export async function scoreExtractor(
  extractor: Extractor,
  set: LabelledMeetingSet,
): Promise<ExtractionScore> {
  const score: ExtractionScore = {
    meetings: set.transcripts.length,
    expected: 0,
    proposed: 0,
    matched: 0,
    precision: 1,
    recall: 1,
    missed: [],
    wrong: [],
  };
  for (const meeting of set.transcripts) {
    const found = await extractor.extract({
      title: meeting.id,
      content: meeting.lines.join('\n'),
      participants: [],
    });
    const open = [...meeting.decisions];
    score.expected += open.length;
    score.proposed += found.length;
    for (const proposal of found) {
      const index = open.findIndex((decision) => mentionsAll(proposal.title, decision.mentions));
      if (index === -1) score.wrong.push({ meeting: meeting.id, title: proposal.title });
      else {
        open.splice(index, 1);
        score.matched++;
      }
    }
    score.missed.push(...open.map(({ title }) => ({ meeting: meeting.id, title })));
  }
  score.precision = score.proposed === 0 ? 1 : score.matched / score.proposed;
  score.recall = score.expected === 0 ? 1 : score.matched / score.expected;
  return score;
}
