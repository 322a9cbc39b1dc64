/**
 * Words and phrases of untrusted text without regular expressions: one pass over the characters makes the
 * tokens, and phrases are matched token by token against tables of fixed length, so the time is linear in
 * the text whatever it holds (no backtracking engine ever sees it).
 */

/** A word (lower-cased, contractions spelled out) or a punctuation mark, with where it stands in the text. */
export interface Token {
  word: string;
  start: number;
  end: number;
  /** The phrase tables with a phrase starting with this word (a bit per table): most words start none. */
  tables: number;
}

/** Each table's bit, by the words its phrases start with. */
const TABLES_BY_FIRST_WORD = new Map<string, number>();
let tableCount = 0;

const CONTRACTION_ENDINGS: [ending: string, spelled: string][] = [
  ["n't", 'not'],
  ["'re", 'are'],
  ["'ll", 'will'],
  ["'ve", 'have'],
  ["'m", 'am'],
  ["'d", 'would'],
];
/** Words before `'s` that make it "is" (or "us"), not a possessive. */
const IS_BEFORE_S = new Set(['it', 'that', 'there', 'what', 'here', 'he', 'she', 'who', 'where', 'this']);
/** `n't` stems that are not the word before it. */
const NOT_STEMS: Record<string, string> = { wo: 'will', ca: 'can', sha: 'shall' };

const PUNCTUATION = new Set(['.', ',', ';', ':', '!', '?', '(', ')', '"', '—', '–']);

/** Letters and digits, by code unit: ASCII by range, the rest by Unicode property (one character at a time). */
function isLetterOrDigit(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code < 128)
    return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  // A single character: a fixed-size input, no repetition for an engine to backtrack over.
  return !Number.isNaN(code) && /^[\p{L}\p{N}]$/u.test(text[index]!);
}

function isDigit(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= 48 && code <= 57;
}

/** Within a word: apostrophes, hyphens, and `.` `:` `,` between digits (4.2, 9:30, 40,000). */
function joinsWord(text: string, index: number): boolean {
  const char = text[index];
  if (char === "'" || char === '’' || char === '-') return isLetterOrDigit(text, index + 1);
  if (char === '.' || char === ':' || char === ',')
    return isDigit(text, index - 1) && isDigit(text, index + 1);
  return false;
}

function push(into: Token[], word: string, start: number, end: number): void {
  into.push({ word, start, end, tables: TABLES_BY_FIRST_WORD.get(word) ?? 0 });
}

/** A word as matched: lower case, typographic apostrophes as `'`, contractions as two words. */
function spelled(raw: string, start: number, end: number, into: Token[]): void {
  const lower = raw.toLowerCase();
  if (!lower.includes("'") && !lower.includes('’')) {
    push(into, lower, start, end);
    return;
  }
  const word = lower.replaceAll('’', "'");
  for (const [ending, spelledOut] of CONTRACTION_ENDINGS) {
    if (word.length > ending.length && word.endsWith(ending)) {
      const stem = word.slice(0, -ending.length);
      push(into, (ending === "n't" && NOT_STEMS[stem]) || stem, start, end);
      push(into, spelledOut, start, end);
      return;
    }
  }
  const stem = word.slice(0, -2);
  if (word.endsWith("'s") && (stem === 'let' || IS_BEFORE_S.has(stem))) {
    push(into, stem, start, end);
    push(into, stem === 'let' ? 'us' : 'is', start, end);
    return;
  }
  push(into, word, start, end);
}

/**
 * The tokens of `text`: words, `+1`/`-1`, and punctuation marks (a run of one mark, "...", is one token);
 * other characters separate.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if ((char === '+' || char === '-') && isDigit(text, index + 1) && !isLetterOrDigit(text, index - 1)) {
      let end = index + 1;
      while (isDigit(text, end)) end++;
      push(tokens, text.slice(index, end), index, end);
      index = end;
    } else if (isLetterOrDigit(text, index)) {
      let end = index + 1;
      while (end < text.length && (isLetterOrDigit(text, end) || joinsWord(text, end))) end++;
      spelled(text.slice(index, end), index, end, tokens);
      index = end;
    } else if (PUNCTUATION.has(char)) {
      let end = index + 1;
      while (text[end] === char) end++;
      push(tokens, char, index, end);
      index = end;
    } else index++;
  }
  return tokens;
}

function isSpace(text: string, index: number): boolean {
  if (index >= text.length) return false;
  const code = text.charCodeAt(index);
  return code < 128 ? code <= 32 : text[index]!.trim() === '';
}

/** Whitespace runs as one space, trimmed: one pass (no copy when there is nothing to collapse). */
export function collapseWhitespace(text: string): string {
  const words: string[] = [];
  let wordStart = -1;
  // Whether the text differs from its words joined by single spaces.
  let differs = text.length > 0 && (isSpace(text, 0) || isSpace(text, text.length - 1));
  for (let index = 0; index <= text.length; index++) {
    const space = index === text.length || isSpace(text, index);
    if (!space) {
      if (wordStart === -1) wordStart = index;
    } else if (wordStart !== -1) {
      words.push(text.slice(wordStart, index));
      wordStart = -1;
      differs ||= index < text.length && (text[index] !== ' ' || isSpace(text, index + 1));
    }
  }
  return differs ? words.join(' ') : text;
}

/** Where a phrase was found: tokens [start, end), and its value. */
export interface PhraseMatch<Value> {
  start: number;
  end: number;
  value: Value;
}

/**
 * Phrases of a few words, each word given as alternatives (`"we will|shall"`; `"*"` for any word after the first), matched
 * token by token: the time per position is bounded by the table, so a search is linear in the tokens.
 */
export class PhraseTable<Value> {
  readonly #byFirstWord = new Map<string, { words: string[][]; value: Value }[]>();
  readonly #bit: number;

  constructor(entries: readonly (readonly [phrase: string, value: Value])[]) {
    if (tableCount === 31) throw new Error('PhraseTable: at most 31 tables (a bit each in Token.tables)');
    this.#bit = 1 << tableCount++;
    for (const [phrase, value] of entries) {
      const words = phrase.split(' ').map((word) => word.split('|'));
      for (const first of words[0]!) {
        TABLES_BY_FIRST_WORD.set(first, (TABLES_BY_FIRST_WORD.get(first) ?? 0) | this.#bit);
        const list = this.#byFirstWord.get(first) ?? [];
        list.push({ words, value });
        this.#byFirstWord.set(first, list);
      }
    }
  }

  /** The phrase starting at token `at` (the longest when several do), if any. */
  at(tokens: readonly Token[], at: number, end = tokens.length): PhraseMatch<Value> | undefined {
    if ((tokens[at]!.tables & this.#bit) === 0) return undefined;
    let best: PhraseMatch<Value> | undefined;
    for (const entry of this.#byFirstWord.get(tokens[at]!.word) ?? []) {
      const length = entry.words.length;
      if (at + length > end || (best && best.end - best.start >= length)) continue;
      let matches = true;
      for (let offset = 0; offset < length && matches; offset++) {
        const choices = entry.words[offset]!;
        matches = choices.includes('*') || choices.includes(tokens[at + offset]!.word);
      }
      if (matches) best = { start: at, end: at + length, value: entry.value };
    }
    return best;
  }

  /** The first phrase in tokens [from, end). */
  find(tokens: readonly Token[], from = 0, end = tokens.length): PhraseMatch<Value> | undefined {
    const bit = this.#bit;
    for (let index = from; index < end; index++) {
      if ((tokens[index]!.tables & bit) === 0) continue;
      const found = this.at(tokens, index, end);
      if (found) return found;
    }
    return undefined;
  }
}
