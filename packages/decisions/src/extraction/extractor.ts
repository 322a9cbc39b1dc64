import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type Consensus, DECISION_STATEMENT_MAX_LENGTH, type Participant } from '../schemas.ts';
import { collapseWhitespace, PhraseTable, type Token, tokenize } from './tokens.ts';

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
 * How the rule-based extractor reads a meeting. Every search runs on untrusted text, so none uses a regular
 * expression: the text is tokenised in one pass (tokens.ts) and the phrases below are matched token by token
 * from tables of a few words each, so the time is linear in the transcript.
 *
 * A sentence decides when it commits in the present or future tense ("Decision: …", "we decided to …",
 * "we will adopt …", "we're switching to …", "from now on …", "X drops to Y", "then we choose …", "X is
 * approved"), unless a condition or hedge comes first ("if", "maybe", "would") or it is a question or a
 * postponement ("let's revisit", "no decision today"). A proposal ("let's …", "how about …", "I suggest …",
 * "should we …?") decides once another speaker agrees in the next turns ("+1", "deal", "works for me", "no
 * objections"), and lapses on an objection, a postponement, another proposal or MAX_PROPOSAL_TURNS turns of
 * neither. "That's the rule from now on" or "that's final" ratifies the statement before it.
 */

/** Verb base forms that change something, with their -ing forms: "we're switching to" is "switch to". */
const CHANGE_VERBS = new Map(
  (
    'adopt:adopting switch:switching move:moving migrate:migrating drop:dropping replace:replacing ' +
    'retire:retiring deprecate:deprecating ship:shipping release:releasing upgrade:upgrading ' +
    'standardize:standardizing standardise:standardising consolidate:consolidating introduce:introducing ' +
    'launch:launching roll:rolling sunset:sunsetting remove:removing stop:stopping add:adding hire:hiring ' +
    'pause:pausing freeze:freezing raise:raising lower:lowering cut:cutting reduce:reducing ' +
    'increase:increasing extend:extending split:splitting merge:merging outsource:outsourcing ' +
    'change:changing rename:renaming choose:choosing pick:picking keep:keeping require:requiring ' +
    'enforce:enforcing sponsor:sponsoring postpone:postponing delay:delaying push:pushing ' +
    'cancel:cancelling kill:killing discontinue:discontinuing close:closing open:opening build:building ' +
    'buy:buying sign:signing renew:renewing rewrite:rewriting implement:implementing enable:enabling ' +
    'disable:disabling deploy:deploying limit:limiting cap:capping publish:publishing fund:funding ' +
    'approve:approving transfer:transferring pair:pairing skip:skipping ban:banning allow:allowing ' +
    'go:going use:using support:supporting try:trying'
  )
    .split(' ')
    .map((pair) => pair.split(':') as [string, string]),
);
/** -ing form → base form. */
const BASE_OF_ING = new Map([...CHANGE_VERBS].map(([base, ing]) => [ing, base]));
BASE_OF_ING.set('canceling', 'cancel');
/** "We're using …" and "we're trying …" describe more often than they decide. */
const PROGRESSIVE_DESCRIBES = new Set(['using', 'trying', 'going', 'supporting']);
/** Verbs after "we will" that deliberate rather than commit ("we'll see", "we will need to think"). */
const DELIBERATIVE = new Set(
  'see need have discuss talk think consider look check figure find know decide revisit wait ask evaluate explore investigate research be get follow circle learn hear meet review watch sync touch'.split(
    ' ',
  ),
);
/** Words before "we" that make a simple present a decision. */
const PRESENT_TENSE_CUES = new Set(['then', 'ok', 'okay', 'so', 'alright']);
/** Subjects that commit like "we" in the future tense ("everyone will use …"). */
const EVERYONE = new Set(['everyone', 'everybody']);
/** Words between "we will" and its verb. */
const ADVERBS = new Set('also now then all just officially definitely finally formally both'.split(' '));
/** "let's …" that agrees ("let's do it") or postpones rather than proposes. */
const NOT_PROPOSED_AFTER_LET_US = new Set([...DELIBERATIVE, 'do', 'park', 'table', 'sleep']);
/** Leading words a whole-sentence title leaves out. */
const LEADING = new Set('and so then ok okay also alright right great good fine yes but well ,'.split(' '));
const COMMA = new Set([',']);
/** Words between a proposal's opening and its matter: "I propose (that) we …". */
const PROPOSAL_FILLERS = new Set(['we', 'that', 'to']);

/** Decision language whose decided matter follows it; `leads`: only at the start of a sentence. */
const DECIDING = new PhraseTable<{ confidence: number; leads?: true }>([
  ['decision :', { confidence: 0.95, leads: true }],
  ['final decision :', { confidence: 0.95, leads: true }],
  ['decided to|that|on', { confidence: 0.9 }],
  ['agreed to|that|on', { confidence: 0.85 }],
  ['let us go with', { confidence: 0.75 }],
  ['let us go ahead with', { confidence: 0.75 }],
  ['we will|are go|going with', { confidence: 0.7 }],
  ['we go with', { confidence: 0.7 }],
]);
/** Time markers that make a statement a rule: the title is the statement without them. */
const MARKERS = new PhraseTable<true>(
  [
    'from now on',
    'going forward',
    'moving forward',
    'effective immediately|today|now|tomorrow',
    'with immediate effect',
    'as of today|now|tomorrow|monday|this',
    'starting today|tomorrow|now',
    'from today|tomorrow',
  ].map((phrase) => [phrase, true] as const),
);
/** "X drops to Y", "X is now Y", "X now requires Y", "X is approved": the whole sentence is the title. */
const STATE_CHANGES = new PhraseTable<true>(
  [
    'drops|goes|moves|changes|increases|decreases|rises|falls|shifts|switches|jumps|doubles|halves|drop|go|move|change to|from',
    'drops|goes|moves|changes|increases|decreases|rises|falls|drop|go|move up|down to|from',
    'is|are now',
    'now require|requires|need|needs|go|goes|get|gets|become|becomes|cost|costs|happen|happens|start|starts|run|runs|live|lives',
    'becomes|become',
    'is|are|gets|get approved|rejected|removed|retired|replaced|deprecated|dropped|cancelled|canceled|postponed|rewritten|frozen|banned|mandatory|final|required',
    'no more',
    'stays|stay|remains|remain',
  ].map((phrase) => [phrase, true] as const),
);
/** The start of a proposal; its matter follows. */
const PROPOSING = new PhraseTable<true>(
  [
    'let us',
    'i propose|suggest',
    'i would propose|suggest',
    'my proposal|suggestion is',
    'proposal|suggestion :',
    'how|what about',
    'why do not we',
    'shall|should we',
    'we should',
    'i vote we|for',
  ].map((phrase) => [phrase, true] as const),
);
/** A condition or hedge before decision language makes it no decision. */
const HEDGES = new Set(
  'if unless whether would could might maybe perhaps probably possibly suppose imagine hypothetically wonder'.split(
    ' ',
  ),
);
/** The hedges that make a proposal a hypothetical ("suppose we dropped …"). */
const HYPOTHETICALS = new Set(['if', 'suppose', 'imagine', 'hypothetically']);
const NEGATIONS = new Set(['not', 'no', 'never']);
/** Postponing the decision: the sentence decides nothing and the open proposal lapses. */
const POSTPONING = new PhraseTable<true>(
  [
    'revisit',
    'revisiting',
    'no decision',
    'not decided',
    'not decide',
    'not yet decided',
    'undecided',
    'park|table this|it|that',
    'think about|over it|this|that',
    'think it over',
    'sleep on it|this|that',
    'offline',
    'circle back',
    'come back to',
    'look at it|this|that again',
    'decide later|next|after|once|when|at|on',
    'deciding now|today',
    'more thought',
    'hold off',
    'vote next',
  ].map((phrase) => [phrase, true] as const),
);
/** "That's the rule", "that's final": confirms the statement or proposal before it. */
const RATIFYING = new PhraseTable<true>(
  [
    'that|this is the rule|policy|plan|decision|process|deal',
    'that|this is final|settled|decided',
    'it is decided|settled|final',
    'so decided',
  ].map((phrase) => [phrase, true] as const),
);
const RATIONALE = new PhraseTable<'clause' | 'phrase'>([
  ['because', 'phrase'],
  ['so that', 'phrase'],
  ['given that', 'phrase'],
  ['due to', 'phrase'],
  [
    'since we|it|they|you|i|he|she|there|that|this|the|our|their|its|those|these|everyone|nobody|customers',
    'clause',
  ],
]);
/** Where a title stops: a second clause (", and we'll email …"). */
const CLAUSE_BREAKS = new PhraseTable<true>(
  [', and|but|while|so|which', ';', '—', '('].map((phrase) => [phrase, true] as const),
);

type Reply = 'agree' | 'object' | 'hesitate' | 'abstain';
/** Answers anywhere in a turn. */
const REPLIES = new PhraseTable<Reply>([
  ['+1', 'agree'],
  ['+100', 'agree'],
  ['agreed', 'agree'],
  ['i agree', 'agree'],
  ['agree', 'agree'],
  ['deal', 'agree'],
  ['works for me', 'agree'],
  ['that works', 'agree'],
  ['sounds good|great|fine|right|reasonable', 'agree'],
  ['fine|good|ok|okay by|with me', 'agree'],
  ['no objection|objections', 'agree'],
  ['let us do it|that|this', 'agree'],
  ['i am in', 'agree'],
  ['count me in', 'agree'],
  ['makes sense', 'agree'],
  ['love it|that', 'agree'],
  ['good|great idea|call', 'agree'],
  ['go for it', 'agree'],
  ['approved', 'agree'],
  ['lgtm', 'agree'],
  ['ship it', 'agree'],
  ['yes please', 'agree'],
  ['i vote yes|for', 'agree'],
  ['i support it|this|that', 'agree'],
  ['disagree', 'object'],
  ['i object', 'object'],
  ['object to', 'object'],
  ['objection', 'object'],
  ['against it|this|that', 'object'],
  ['do|can not agree', 'object'],
  ['oppose', 'object'],
  ['-1', 'object'],
  ['bad idea', 'object'],
  ['do not think that|this|it is a good|the right', 'object'],
  ['not sure', 'hesitate'],
  ['i would wait', 'hesitate'],
  ['let me think', 'hesitate'],
  ['abstain', 'abstain'],
  ['abstaining', 'abstain'],
  ['no strong opinion', 'abstain'],
  ['no opinion', 'abstain'],
  ['i am neutral', 'abstain'],
  ['neutral on', 'abstain'],
  ['sit this one out', 'abstain'],
]);
/** Answers as a turn's first word. */
const OPENING_REPLIES = new Map<string, Reply>([
  ...'yes yeah yep yup sure ok okay fine good great perfect absolutely definitely exactly alright correct done'
    .split(' ')
    .map((word) => [word, 'agree'] as const),
  ...'no not nope nah'.split(' ').map((word) => [word, 'object'] as const),
  ...'maybe probably hmm well but interesting'.split(' ').map((word) => [word, 'hesitate'] as const),
]);

const NOT_A_NO = new Set(['objection', 'objections', 'more', 'strong', 'opinion']);

/** A proposal waits this many turns for agreement before it lapses. */
const MAX_PROPOSAL_TURNS = 3;
const PROPOSAL_CONFIDENCE = 0.7;
const RATIFIED_CONFIDENCE = 0.7;
const STATE_CHANGE_CONFIDENCE = 0.65;
const MARKED_CONFIDENCE = 0.8;
const COMMITMENT_CONFIDENCE = 0.75;

/** `Name: text`: a speaker's name is at most this long. */
const MAX_SPEAKER = 61;
const TRAILING_PUNCTUATION = new Set(['.', '!', ';', ',', ' ', '?', ':']);
const MAX_TITLE = 80;
/** Each objection lowers confidence by this much, down to MIN_CONFIDENCE. */
const OBJECTION_PENALTY = 0.1;
const MIN_CONFIDENCE = 0.3;
/** A run proposes at most this many decisions (a meeting that decides more is not one meeting). */
export const MAX_PROPOSALS = 200;
/** Characters read between two yields to the event loop, so one long transcript never holds it for long. */
const SLICE_CHARACTERS = 16 * 1024;
/** A longer utterance is read in pieces (more than a decision's statement holds). */
const PIECE_CHARACTERS = 32 * 1024;

interface Utterance {
  speaker: string | null;
  /** Whitespace runs reduced to one space. */
  text: string;
}

function isUpperCaseLetter(char: string | undefined): boolean {
  return char !== undefined && char !== char.toLowerCase() && char === char.toUpperCase();
}

function isNameCharacter(char: string): boolean {
  return (
    char === ' ' || char === '.' || char === "'" || char === '-' || char.toLowerCase() !== char.toUpperCase()
  );
}

/**
 * `Name: text` lines, and plain lines (no speaker): a name starts with a capital, holds letters, spaces,
 * `.`, `'` and `-`, and ends at a colon followed by a space within MAX_SPEAKER characters. A line
 * starting `Decision:` is not a speaker.
 */
function utteranceOf(line: string): Utterance {
  if (isUpperCaseLetter(line[0])) {
    for (let index = 1; index <= MAX_SPEAKER && index < line.length; index++) {
      const char = line[index]!;
      if (char === ':') {
        const speaker = collapseWhitespace(line.slice(0, index));
        const lower = speaker.toLowerCase();
        if ((line[index + 1] ?? '').trim() === '' && lower !== 'decision' && lower !== 'final decision') {
          return { speaker, text: collapseWhitespace(line.slice(index + 1)) };
        }
        break;
      }
      if (!isNameCharacter(char)) break;
    }
  }
  return { speaker: null, text: collapseWhitespace(line) };
}

/**
 * An utterance in pieces of at most PIECE_CHARACTERS, cut at a space: a line that long is no one's turn,
 * and reading it in pieces lets the extractor yield to the event loop between them.
 */
function piecesOf(text: string): string[] {
  const pieces: string[] = [];
  let from = 0;
  while (text.length - from > PIECE_CHARACTERS) {
    const space = text.lastIndexOf(' ', from + PIECE_CHARACTERS);
    const to = space > from ? space : from + PIECE_CHARACTERS;
    pieces.push(text.slice(from, to));
    from = to;
  }
  pieces.push(text.slice(from));
  return pieces;
}

/** A sentence of an utterance: its tokens [from, to). */
interface Sentence {
  from: number;
  to: number;
}

/** Sentences end at `.`, `!` or `?` followed by a space and a capital or a quote. */
function sentencesOf(text: string, tokens: readonly Token[]): Sentence[] {
  const sentences: Sentence[] = [];
  let from = 0;
  for (let index = 0; index < tokens.length; index++) {
    const { word, end } = tokens[index]!;
    const next = text[end + 1];
    const breaks =
      (word === '.' || word === '!' || word === '?') &&
      text[end] === ' ' &&
      (isUpperCaseLetter(next) || next === '"' || next === "'");
    if (breaks || index === tokens.length - 1) {
      sentences.push({ from, to: index + 1 });
      from = index + 1;
    }
  }
  return sentences;
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

/** What one sentence is, read on its own. */
type Reading =
  | { kind: 'decision'; title: string; rationale: string | null; confidence: number }
  | { kind: 'proposal'; title: string; rationale: string | null }
  | { kind: 'ratification' }
  | { kind: 'postponement' }
  | { kind: 'statement' }
  | { kind: 'other' };

/** Reads sentences of one utterance: its text, its tokens. */
class SentenceReader {
  readonly text: string;
  readonly tokens: readonly Token[];
  /** How many hedges (hypotheticals) come before each token: any range is checked in constant time. */
  readonly hedges: number[];
  readonly hypotheticals: number[];

  constructor(text: string, tokens: readonly Token[]) {
    this.text = text;
    this.tokens = tokens;
    this.hedges = [0];
    this.hypotheticals = [0];
    tokens.forEach(({ word }, index) => {
      this.hedges.push(this.hedges[index]! + (HEDGES.has(word) ? 1 : 0));
      this.hypotheticals.push(this.hypotheticals[index]! + (HYPOTHETICALS.has(word) ? 1 : 0));
    });
  }

  read({ from, to }: Sentence): Reading {
    const { tokens } = this;
    if (POSTPONING.find(tokens, from, to)) return { kind: 'postponement' };
    const question = tokens[to - 1]?.word === '?';
    const proposal = PROPOSING.find(tokens, from, to);
    if (proposal && !this.hedged(from, proposal.start, this.hypotheticals)) {
      const after = this.skip(proposal.end, to, PROPOSAL_FILLERS);
      const verb = tokens[after]?.word;
      const letUs = tokens[proposal.start]!.word === 'let';
      if (!(letUs && (verb === 'go' || (verb !== undefined && NOT_PROPOSED_AFTER_LET_US.has(verb))))) {
        if (after < to && tokens[after]!.word !== '?')
          return { kind: 'proposal', ...this.matter(after, to, BASE_OF_ING.get(verb ?? '')) };
      }
    }
    if (question) return { kind: 'other' };
    if (RATIFYING.find(tokens, from, to)) return { kind: 'ratification' };
    return this.decision(from, to) ?? { kind: 'statement' };
  }

  /** Decision language in tokens [from, to), not preceded by a hedge or a negation. */
  private decision(from: number, to: number): Reading | undefined {
    const { tokens } = this;
    const deciding = DECIDING.find(tokens, from, to);
    if (deciding) {
      const { confidence, leads } = deciding.value;
      if (
        (leads && deciding.start !== from) ||
        this.hedged(from, deciding.start) ||
        this.negated(deciding.start)
      )
        return undefined;
      return { kind: 'decision', confidence, ...this.matter(deciding.end, to) };
    }
    const marker = MARKERS.find(tokens, from, to);
    if (marker && !this.hedged(from, marker.start)) {
      const before = this.skip(from, marker.start, LEADING);
      const after = this.skip(marker.end, to, COMMA);
      // The marker ends the statement ("…, effective immediately") or leads it ("From now on, …").
      const matter = before < marker.start ? this.matter(before, marker.start) : this.matter(after, to);
      if (matter.title.length >= 3) return { kind: 'decision', confidence: MARKED_CONFIDENCE, ...matter };
    }
    const commitment = this.commitment(from, to);
    if (commitment) return commitment;
    const change = STATE_CHANGES.find(tokens, from, to);
    if (change && !this.hedged(from, change.start) && !this.negated(change.start) && change.start > from) {
      const subject = tokens[change.start - 1]!.word;
      if (subject !== 'i' && subject !== 'you' && subject !== 'it' && subject !== 'that') {
        return {
          kind: 'decision',
          confidence: STATE_CHANGE_CONFIDENCE,
          ...this.matter(this.skip(from, to, LEADING), to),
        };
      }
    }
    if (tokens[from]?.word === 'no' && tokens[from + 1]?.word === 'more') {
      return { kind: 'decision', confidence: STATE_CHANGE_CONFIDENCE, ...this.matter(from, to) };
    }
    return undefined;
  }

  /** "we will adopt …", "we're switching to …", "then we choose …": the matter from the verb. */
  private commitment(from: number, to: number): Reading | undefined {
    const { tokens } = this;
    for (let index = from; index < to - 1; index++) {
      const subject = tokens[index]!.word;
      if (subject !== 'we' && !EVERYONE.has(subject)) continue;
      if (this.hedged(from, index)) return undefined;
      let at = index + 1;
      const auxiliary = tokens[at]!.word;
      if (auxiliary === 'will' || auxiliary === 'shall') at++;
      else if (subject !== 'we') continue;
      else if (auxiliary === 'are' && tokens[at + 1]?.word === 'going' && tokens[at + 2]?.word === 'to')
        at += 3;
      else if (
        auxiliary === 'are' &&
        tokens[at + 1]?.word === 'not' &&
        tokens[at + 2]?.word === 'going' &&
        tokens[at + 3]?.word === 'to'
      )
        at += 1;
      else if (auxiliary === 'are' && tokens[at + 1]?.word === 'gonna') at += 2;
      else if (auxiliary === 'are') {
        at = this.skip(at + 1, to, ADVERBS);
        const verb = tokens[at]?.word ?? '';
        const base = BASE_OF_ING.get(verb);
        if (base && !PROGRESSIVE_DESCRIBES.has(verb)) {
          return { kind: 'decision', confidence: COMMITMENT_CONFIDENCE, ...this.matter(at, to, base) };
        }
        continue;
      } else {
        // The simple present decides after "then", "ok" or "so": "then we choose Acme", "OK, we sponsor it".
        const before = tokens[index - 1]?.word === ',' ? index - 2 : index - 1;
        if (CHANGE_VERBS.has(auxiliary) && PRESENT_TENSE_CUES.has(tokens[before]?.word ?? '')) {
          return { kind: 'decision', confidence: COMMITMENT_CONFIDENCE, ...this.matter(at, to) };
        }
        continue;
      }
      at = this.skip(at, to, ADVERBS);
      const verb = tokens[at]?.word;
      if (verb === undefined || DELIBERATIVE.has(verb) || verb.length < 2 || !this.isWord(at))
        return undefined;
      if (verb === 'not') {
        // A refusal is a decision only when nothing in it hedges ("we're not going to make it, probably").
        if (this.hedged(from, to)) return undefined;
        return {
          kind: 'decision',
          confidence: COMMITMENT_CONFIDENCE,
          ...this.matter(this.skip(from, to, LEADING), to),
        };
      }
      return { kind: 'decision', confidence: COMMITMENT_CONFIDENCE, ...this.matter(at, to) };
    }
    return undefined;
  }

  /** The title (tokens [start, to) up to a second clause or the rationale) and the rationale. */
  private matter(start: number, to: number, baseVerb?: string): { title: string; rationale: string | null } {
    const { tokens, text } = this;
    const reason = RATIONALE.find(tokens, start, to);
    const clause = CLAUSE_BREAKS.find(tokens, start, reason?.start ?? to);
    const end = clause?.start ?? reason?.start ?? to;
    if (start >= end) return { title: '', rationale: null };
    const first = tokens[start]!;
    const head = baseVerb ?? text.slice(first.start, first.end);
    const titleText = head + text.slice(first.end, end > start ? tokens[end - 1]!.end : first.end);
    const rationaleStart = reason ? (reason.value === 'clause' ? reason.start + 1 : reason.end) : to;
    const rationale =
      reason && rationaleStart < to
        ? titleOf(text.slice(tokens[rationaleStart]!.start, tokens[to - 1]!.end))
        : null;
    return { title: titleOf(titleText), rationale: rationale || null };
  }

  /** The first token in [from, to) whose word is not in `words`. */
  private skip(from: number, to: number, words: ReadonlySet<string>): number {
    let at = from;
    while (at < to && words.has(this.tokens[at]!.word)) at++;
    return at;
  }

  /** A hedge (or, given `counts`, another kind of word) among tokens [from, at): two lookups. */
  private hedged(from: number, at: number, counts: readonly number[] = this.hedges): boolean {
    return counts[at]! > counts[from]!;
  }

  /** A negation in the two tokens before `at` ("not decided", "haven't agreed to"). */
  private negated(at: number): boolean {
    return [at - 1, at - 2].some((index) => index >= 0 && NEGATIONS.has(this.tokens[index]!.word));
  }

  private isWord(at: number): boolean {
    const token = this.tokens[at]!;
    return token.end - token.start > 1 || token.word.toLowerCase() !== token.word.toUpperCase();
  }

  statement({ from, to }: Sentence): { title: string; rationale: string | null } {
    return this.matter(this.skip(from, to, LEADING), to);
  }

  sentenceText({ from, to }: Sentence): string {
    return this.text.slice(this.tokens[from]!.start, this.tokens[to - 1]!.end);
  }
}

/** How a turn answers what came before it: its first word, then answers anywhere in it. */
function replyOf(tokens: readonly Token[]): Reply | undefined {
  const first = tokens[0]?.word ?? '';
  // "No objections", "no more …" and "no strong opinion" are not a "no".
  const opening =
    first === 'no' && NOT_A_NO.has(tokens[1]?.word ?? '') ? undefined : OPENING_REPLIES.get(first);
  if (opening && opening !== 'agree') return opening;
  let found: Reply | undefined;
  for (let index = 0; index < tokens.length; index++) {
    const match = REPLIES.at(tokens, index);
    if (!match) continue;
    if (match.value !== 'agree') return match.value;
    found ??= 'agree';
    index = match.end - 1;
  }
  return found ?? (opening === 'agree' ? 'agree' : undefined);
}

/** A proposal waiting for another speaker's agreement. */
interface OpenProposal {
  decision: ProposedDecision;
  speaker: string | null;
  turns: number;
}

/** Records a speaker's answer to a decision once: agreement, objection or abstention. */
function answer(consensus: Consensus, speaker: string, reply: Reply | undefined): void {
  if ([...consensus.for, ...consensus.against, ...consensus.abstain].includes(speaker)) return;
  if (reply === 'agree') consensus.for.push(speaker);
  else if (reply === 'object') consensus.against.push(speaker);
  else if (reply === 'abstain') consensus.abstain.push(speaker);
}

/**
 * The default extractor: no network, no model (see the rules above). Confidence follows how explicit the
 * language is, lowered by each objection; the speaker and the people who answer (until the next decision)
 * make up the consensus. Its time grows linearly with the transcript, and it yields to the event loop every
 * SLICE_CHARACTERS, so other requests are served while a long transcript is read.
 */
export const ruleBasedExtractor: Extractor = {
  name: 'rule-based-v2',
  async extract({ content }) {
    const found: { decision: ProposedDecision; base: number }[] = [];
    let current: ProposedDecision | undefined;
    let open: OpenProposal | undefined;
    // The last statement, as a decision if someone ratifies it (built then: most statements never are).
    let lastStatement: (() => ProposedDecision) | undefined;
    const record = (decision: ProposedDecision) => {
      if (found.length === MAX_PROPOSALS || decision.title.length < 3) return;
      found.push({ decision, base: decision.confidence });
      current = decision;
      lastStatement = undefined;
    };
    let readSinceYield = 0;
    for (const line of content.split('\n')) {
      const utterance = utteranceOf(line.trim());
      const { speaker } = utterance;
      for (const text of piecesOf(utterance.text)) {
        readSinceYield += text.length;
        if (readSinceYield >= SLICE_CHARACTERS) {
          readSinceYield = 0;
          await yieldToEventLoop();
        }
        const tokens = tokenize(text);
        if (tokens.length === 0) continue;
        const reader = new SentenceReader(text, tokens);
        const sentences = sentencesOf(text, tokens);
        const readings = sentences.map((sentence) => reader.read(sentence));
        const reply = replyOf(tokens);
        const postpones = readings.some((reading) => reading.kind === 'postponement');
        const proposes = readings.some(
          (reading) => reading.kind === 'decision' || reading.kind === 'proposal',
        );
        if (open) {
          const proposal = open;
          if (postpones || reply === 'object' || reply === 'hesitate') open = undefined;
          else if (reply === 'agree' && speaker !== proposal.speaker) {
            open = undefined;
            if (speaker) answer(proposal.decision.consensus, speaker, reply);
            record(proposal.decision);
          } else if (++proposal.turns >= MAX_PROPOSAL_TURNS) open = undefined;
        } else if (current && speaker && !proposes) answer(current.consensus, speaker, reply);
        sentences.forEach((sentence, index) => {
          const reading = readings[index]!;
          const decided = (
            { title, rationale }: { title: string; rationale: string | null },
            confidence: number,
          ): ProposedDecision => ({
            title,
            rationale,
            statement: reader.sentenceText(sentence).slice(0, DECISION_STATEMENT_MAX_LENGTH),
            confidence,
            consensus: { for: speaker ? [speaker] : [], against: [], abstain: [] },
          });
          switch (reading.kind) {
            case 'decision':
              open = undefined;
              record(decided(reading, reading.confidence));
              break;
            case 'proposal':
              open = { decision: decided(reading, PROPOSAL_CONFIDENCE), speaker, turns: 0 };
              break;
            case 'ratification': {
              const ratified = open?.decision ?? lastStatement?.();
              open = undefined;
              if (ratified) {
                if (speaker) answer(ratified.consensus, speaker, 'agree');
                ratified.confidence = RATIFIED_CONFIDENCE;
                record(ratified);
              } else if (current && speaker) answer(current.consensus, speaker, 'agree');
              break;
            }
            case 'postponement':
              open = undefined;
              lastStatement = undefined;
              break;
            case 'statement':
              lastStatement = () => decided(reader.statement(sentence), RATIFIED_CONFIDENCE);
              break;
            case 'other':
              break;
          }
        });
      }
    }
    return found.map(({ decision, base }) => ({
      ...decision,
      confidence: round2(
        Math.max(MIN_CONFIDENCE, base - OBJECTION_PENALTY * decision.consensus.against.length),
      ),
    }));
  },
};
