import { type Extractor, ruleBasedExtractor } from './extraction/extractor.ts';
import { type Embedder, hashingEmbedder } from './similarity/embedder.ts';

/**
 * What the decisions module's operations, jobs and seeders use from outside a request: the embedder that
 * turns decisions into vectors and the extractor that proposes decisions from transcripts. An app that
 * embeds the package (or a test) gives its own through `ModuleResources.with(decisionsModule, …)`.
 */
export interface DecisionsResources {
  embedder: Embedder;
  extractor: Extractor;
}

/** The offline defaults: the hashing embedder and the rule-based extractor (no model, no network). */
export function defaultDecisionsResources(): DecisionsResources {
  return { embedder: hashingEmbedder, extractor: ruleBasedExtractor };
}
