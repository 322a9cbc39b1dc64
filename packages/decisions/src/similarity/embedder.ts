import { EMBEDDING_DIMENSIONS } from '../schemas.ts';

/**
 * Turns texts into vectors of `decisions.embedding`'s dimension (384), compared by cosine distance. Any
 * sentence-embedding model of that dimension fits (e.g. all-MiniLM-L6-v2); `name` is stored with each
 * embedding, so after switching embedders the `reembed` job recomputes the ones the old embedder made.
 */
export interface Embedder {
  /** Identifies the embedder and its version, at most 100 characters (`decisions.embedding_model`). */
  readonly name: string;
  /** One vector of EMBEDDING_DIMENSIONS finite numbers per text, in order. */
  embed(texts: readonly string[]): Promise<number[][]>;
}

/** Words too common to say anything about a decision's meaning; left out of the word features. */
const STOPWORDS = new Set(
  'a an and are as at be by for from has have in is it its of on or that the this to was we were will with'.split(
    ' ',
  ),
);

/** FNV-1a, 32 bits: a fast, well-spread string hash (not for security). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The text's features with their weights: words, word pairs and the words' character trigrams. */
function features(text: string): Map<string, number> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const weights = new Map<string, number>();
  const add = (feature: string, weight: number) => weights.set(feature, (weights.get(feature) ?? 0) + weight);
  const content = words.filter((word) => !STOPWORDS.has(word));
  for (const word of content) add(`w:${word}`, 1);
  for (let index = 1; index < content.length; index++) add(`b:${content[index - 1]} ${content[index]}`, 1);
  for (const word of words) {
    const padded = `#${word}#`;
    for (let index = 0; index + 3 <= padded.length; index++) add(`c:${padded.slice(index, index + 3)}`, 0.25);
  }
  return weights;
}

/** The hashing embedder's vector for one text: signed feature hashing into 384 dimensions, L2-normalised. */
export function hashEmbedding(text: string): number[] {
  const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const [feature, weight] of features(text)) {
    const hash = fnv1a(feature);
    // The top bit picks the sign, so colliding features cancel out on average instead of piling up.
    vector[hash % EMBEDDING_DIMENSIONS]! += hash & 0x80000000 ? -weight : weight;
  }
  const norm = Math.hypot(...vector);
  // A text without letters or digits has no features; a fixed unit vector keeps cosine distance defined.
  if (norm === 0) return vector.map((_, index) => (index === 0 ? 1 : 0));
  return vector.map((value) => value / norm);
}

/**
 * The default embedder: offline, no model, deterministic. Texts that share words, word pairs and word
 * fragments get close vectors, so wording overlap ranks first; it knows nothing of synonyms.
 */
export const hashingEmbedder: Embedder = {
  name: 'hashing-ngrams-v1',
  embed: async (texts) => texts.map(hashEmbedding),
};

/** What is embedded for a decision: its title and statement. */
export function decisionText(decision: { title: string; statement: string }): string {
  return `${decision.title}\n${decision.statement}`;
}

/** Vectors for texts, in their order, and the embedder that made them. */
export interface Embeddings {
  vectors: number[][];
  model: string;
}

/** Embeds texts with `embedder`, refusing vectors of the wrong dimension or non-finite values. */
export async function embedTexts(embedder: Embedder, texts: readonly string[]): Promise<Embeddings> {
  const vectors = await embedder.embed(texts);
  if (vectors.length !== texts.length) {
    throw new Error(
      `embedder ${embedder.name}: returned ${vectors.length} vectors for ${texts.length} texts`,
    );
  }
  for (const vector of vectors) {
    if (vector.length !== EMBEDDING_DIMENSIONS || !vector.every(Number.isFinite)) {
      throw new Error(
        `embedder ${embedder.name}: must return ${EMBEDDING_DIMENSIONS} finite numbers per text`,
      );
    }
  }
  return { vectors, model: embedder.name };
}
