import type { Consensus, Participant } from '../schemas.ts';

/** A decision an extractor found in a transcript, to be recorded as `proposed`. */
export interface ProposedDecision {
  title: string;
  statement: string;
  rationale: string | null;
  /** 0–1, two decimals: how explicitly the transcript states the decision. */
  confidence: number;
  consensus: Consensus;
}

/** Turns a transcript's text into proposed decisions; the default is rule-based (`ruleBasedExtractor`). */
export interface Extractor {
  readonly name: string;
  extract(transcript: {
    title: string;
    content: string;
    participants: Participant[];
  }): Promise<ProposedDecision[]>;
}

/**
 * Decision language, most explicit first; the first that matches a sentence gives its base confidence and
 * where the decided matter starts (after the phrase).
 */
const DECISION_PHRASES: { pattern: RegExp; confidence: number }[] = [
  { pattern: /^(?:final\s+)?decision\s*[:-]\s*/i, confidence: 0.95 },
  {
    pattern: /\bwe(?:'ve| have)?\s+(?:also\s+|formally\s+|finally\s+)?decided\s+(?:to|that|on)\s+/i,
    confidence: 0.9,
  },
  {
    pattern:
      /\b(?:we(?:'ve| have)?\s+(?:also\s+|all\s+)?|it(?:'s| is|\s+was)\s+|everyone\s+|all\s+)agreed\s+(?:to|that|on)\s+/i,
    confidence: 0.85,
  },
  { pattern: /\blet(?:'s| us)\s+go\s+with\s+/i, confidence: 0.75 },
  { pattern: /\bwe(?:'ll| will)\s+go\s+with\s+/i, confidence: 0.7 },
];

/** Sentences that mention deciding without deciding anything. */
const NOT_A_DECISION = [
  /\?\s*$/,
  /\b(?:not|never|haven't|hasn't|didn't|no)\s+(?:yet\s+)?(?:decided|agreed)\b/i,
  /\bno decision\b/i,
  /\b(?:if|whether|unless)\b.*\b(?:decided|agreed|go with)\b/i,
];

const ABSTAIN =
  /\b(?:abstain|abstaining|no (?:strong )?opinion|i'?m neutral|neutral on this|sit this one out)\b/i;
const OBJECT =
  /\b(?:disagree|object|objection|against (?:it|this|that)|(?:don'?t|do not|can'?t|cannot) agree|(?:don'?t|do not) think (?:that|this|it)'?s? (?:a )?(?:good|right)|oppose|-1)\b/i;
const AGREE =
  /(?:\bagree[ds]?\b|\+1|\bsounds good\b|\bworks for me\b|\bi'?m in\b|\bsupport (?:it|this|that)\b|^\s*yes\b)/i;

const RATIONALE = /\b(?:because|since|so that|as)\s+(.+)$/i;
const MAX_TITLE = 80;
/** Each objection lowers confidence by this much, down to MIN_CONFIDENCE. */
const OBJECTION_PENALTY = 0.1;
const MIN_CONFIDENCE = 0.3;

interface Utterance {
  speaker: string | null;
  text: string;
}

/** `Name: text` lines, and plain lines (no speaker). A line starting `Decision:` is not a speaker. */
function utterances(content: string): Utterance[] {
  return content
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const match = line.match(/^([\p{Lu}][\p{L} .'-]{0,60}?)\s*:\s+(.+)$/u);
      if (!match || /^(?:final\s+)?decision$/i.test(match[1]!)) return { speaker: null, text: line };
      return { speaker: match[1]!.trim(), text: match[2]! };
    });
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[\p{Lu}"'])/u)
    .map((sentence) => sentence.trim())
    .filter(Boolean);
}

/** The decided matter as a title: first letter capitalised, no trailing punctuation, at most 80 characters. */
function titleOf(matter: string): string {
  const clean = matter
    .replace(/\s+/g, ' ')
    .replace(/[.!;,\s]+$/, '')
    .trim();
  const short =
    clean.length <= MAX_TITLE ? clean : `${clean.slice(0, clean.lastIndexOf(' ', MAX_TITLE - 1))}…`;
  return short.charAt(0).toUpperCase() + short.slice(1);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The default extractor: no network, no model. It proposes a decision for each sentence in decision language
 * ("Decision: …", "we decided to …", "agreed to …", "let's go with …"), skipping questions, negations and
 * conditionals; confidence follows how explicit the phrase is, lowered by each objection. The speaker and
 * the people who answer (until the next decision) make up the consensus: agreement, objection, abstention.
 */
export const ruleBasedExtractor: Extractor = {
  name: 'rule-based-v1',
  async extract({ content }) {
    const found: { decision: ProposedDecision; base: number }[] = [];
    let current: ProposedDecision | undefined;
    for (const { speaker, text } of utterances(content)) {
      let proposedHere = false;
      for (const sentence of sentences(text)) {
        if (NOT_A_DECISION.some((pattern) => pattern.test(sentence))) continue;
        const phrase = DECISION_PHRASES.find(({ pattern }) => pattern.test(sentence));
        if (!phrase) continue;
        const matter = sentence.slice(sentence.search(phrase.pattern)).replace(phrase.pattern, '');
        const rationale = matter.match(RATIONALE);
        const decided = rationale ? matter.slice(0, rationale.index) : matter;
        if (decided.trim().length < 3) continue;
        current = {
          title: titleOf(decided),
          statement: sentence.replace(/\s+/g, ' '),
          rationale: rationale ? titleOf(rationale[1]!) : null,
          confidence: phrase.confidence,
          consensus: { for: speaker ? [speaker] : [], against: [], abstain: [] },
        };
        found.push({ decision: current, base: phrase.confidence });
        proposedHere = true;
      }
      if (proposedHere || !current || !speaker) continue;
      const { consensus } = current;
      if ([...consensus.for, ...consensus.against, ...consensus.abstain].includes(speaker)) continue;
      if (ABSTAIN.test(text)) consensus.abstain.push(speaker);
      else if (OBJECT.test(text)) consensus.against.push(speaker);
      else if (AGREE.test(text)) consensus.for.push(speaker);
    }
    return found.map(({ decision, base }) => ({
      ...decision,
      confidence: round2(
        Math.max(MIN_CONFIDENCE, base - OBJECTION_PENALTY * decision.consensus.against.length),
      ),
    }));
  },
};

let activeExtractor: Extractor = ruleBasedExtractor;

/** Replaces the extractor this process uses (at start-up, before serving). */
export function useExtractor(extractor: Extractor): void {
  activeExtractor = extractor;
}

export function currentExtractor(): Extractor {
  return activeExtractor;
}
