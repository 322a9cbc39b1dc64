import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type Consensus, DECISION_STATEMENT_MAX_LENGTH, type Participant } from '../schemas.ts';

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
 * Every pattern here runs on untrusted text, so each is linear by construction: the text is first reduced to
 * single spaces (`normalized`), and the patterns are fixed alternatives of bounded length, anchored or
 * bounded, with no two quantifiers that can take the same characters. Whatever would need `.*` (a condition
 * before decision words, a rationale to the end) is found by two searches and a slice instead.
 */

/**
 * Decision language, most explicit first; the first that matches a sentence gives its base confidence and
 * where the decided matter starts (after the phrase).
 */
const DECISION_PHRASES: { pattern: RegExp; confidence: number }[] = [
  { pattern: /^(?:final )?decision ?[:-] ?/i, confidence: 0.95 },
  {
    pattern: /\bwe(?:'ve| have)? (?:also |formally |finally )?decided (?:to|that|on) /i,
    confidence: 0.9,
  },
  {
    pattern:
      /\b(?:we(?:'ve| have)? (?:also |all )?|it(?:'s| is| was) |everyone |all )agreed (?:to|that|on) /i,
    confidence: 0.85,
  },
  { pattern: /\blet(?:'s| us) go with /i, confidence: 0.75 },
  { pattern: /\bwe(?:'ll| will) go with /i, confidence: 0.7 },
];

/** Sentences that mention deciding without deciding anything (questions and conditionals: `notADecision`). */
const NEGATED = /\b(?:not|never|haven't|hasn't|didn't|no) (?:yet )?(?:decided|agreed)\b|\bno decision\b/i;
const CONDITION = /\b(?:if|whether|unless)\b/i;
const DECIDING = /\b(?:decided|agreed|go with)\b/i;

const ABSTAIN =
  /\b(?:abstain|abstaining|no (?:strong )?opinion|i'?m neutral|neutral on this|sit this one out)\b/i;
const OBJECT =
  /\b(?:disagree|object|objection|against (?:it|this|that)|(?:don'?t|do not|can'?t|cannot) agree|(?:don'?t|do not) think (?:that|this|it)'?s? (?:a )?(?:good|right)|oppose|-1)\b/i;
const AGREE =
  /(?:\bagree[ds]?\b|\+1|\bsounds good\b|\bworks for me\b|\bi'?m in\b|\bsupport (?:it|this|that)\b|^yes\b)/i;

const RATIONALE = /\b(?:because|since|so that|as) /i;
/** `Name: text`: anchored, the name bounded (at most 61 characters, no colon), so at most 61 tries. */
const SPEAKER = /^(\p{Lu}[\p{L} .'-]{0,60}):\s/u;
const NOT_A_SPEAKER = /^(?:final )?decision$/i;
/** A sentence ends after `.`, `!` or `?` and a space, where the next starts with a capital or a quote. */
const SENTENCE_BREAK = /(?<=[.!?]) (?=[\p{Lu}"'])/u;
const TRAILING_PUNCTUATION = new Set(['.', '!', ';', ',', ' ']);
const MAX_TITLE = 80;
/** Each objection lowers confidence by this much, down to MIN_CONFIDENCE. */
const OBJECTION_PENALTY = 0.1;
const MIN_CONFIDENCE = 0.3;
/** A run proposes at most this many decisions (a meeting that decides more is not one meeting). */
export const MAX_PROPOSALS = 200;
/** Characters read between two yields to the event loop, so one long transcript never holds it for long. */
const SLICE_CHARACTERS = 16 * 1024;

interface Utterance {
  speaker: string | null;
  /** Whitespace runs reduced to one space. */
  text: string;
}

/** Whitespace runs as one space, trimmed: a linear pass (each run is taken whole, once). */
function normalized(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** `Name: text` lines, and plain lines (no speaker). A line starting `Decision:` is not a speaker. */
function utterance(line: string): Utterance {
  const match = SPEAKER.exec(line);
  const speaker = match?.[1]?.trim();
  if (!match || !speaker || NOT_A_SPEAKER.test(speaker)) return { speaker: null, text: normalized(line) };
  return { speaker, text: normalized(line.slice(match[0].length)) };
}

/** A question, a negation, or a condition before decision words ("if we agreed to …"). */
function notADecision(sentence: string): boolean {
  if (sentence.endsWith('?') || NEGATED.test(sentence)) return true;
  const condition = CONDITION.exec(sentence);
  return condition !== null && DECIDING.test(sentence.slice(condition.index + condition[0].length));
}

/** The decided matter as a title: first letter capitalised, no trailing punctuation, at most 80 characters. */
function titleOf(matter: string): string {
  let end = matter.length;
  while (end > 0 && TRAILING_PUNCTUATION.has(matter[end - 1]!)) end--;
  const clean = matter.slice(0, end).trim();
  const cut = clean.lastIndexOf(' ', MAX_TITLE - 1);
  const short = clean.length <= MAX_TITLE ? clean : `${clean.slice(0, cut > 0 ? cut : MAX_TITLE - 1)}…`;
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
 * Its time grows linearly with the transcript, and it yields to the event loop every SLICE_CHARACTERS, so
 * other requests are served while a long transcript is read.
 */
export const ruleBasedExtractor: Extractor = {
  name: 'rule-based-v1',
  async extract({ content }) {
    const found: { decision: ProposedDecision; base: number }[] = [];
    let current: ProposedDecision | undefined;
    let readSinceYield = 0;
    for (const line of content.split('\n')) {
      readSinceYield += line.length;
      if (readSinceYield >= SLICE_CHARACTERS) {
        readSinceYield = 0;
        await yieldToEventLoop();
      }
      const { speaker, text } = utterance(line.trim());
      if (!text) continue;
      let proposedHere = false;
      for (const sentence of text.split(SENTENCE_BREAK)) {
        if (found.length === MAX_PROPOSALS || notADecision(sentence)) continue;
        const phrase = DECISION_PHRASES.find(({ pattern }) => pattern.test(sentence));
        const match = phrase?.pattern.exec(sentence);
        if (!phrase || !match) continue;
        const matter = sentence.slice(match.index + match[0].length);
        const rationale = RATIONALE.exec(matter);
        const decided = rationale ? matter.slice(0, rationale.index) : matter;
        if (decided.trim().length < 3) continue;
        current = {
          title: titleOf(decided),
          statement: sentence.slice(0, DECISION_STATEMENT_MAX_LENGTH),
          rationale: rationale ? titleOf(matter.slice(rationale.index + rationale[0].length)) : null,
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
