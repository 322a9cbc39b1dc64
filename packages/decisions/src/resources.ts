import { type Extractor, ruleBasedExtractor } from './extraction/extractor.ts';
import { type Embedder, hashingEmbedder } from './similarity/embedder.ts';
import { webhookSecretsFromEnv } from './webhook.ts';

/**
 * What the decisions module's operations, jobs, seeders and webhook use from outside a request: the embedder
 * that turns decisions into vectors, the extractor that proposes decisions from transcripts, and the secrets
 * webhook deliveries may be signed with. An app that embeds the package (or a test) gives its own through
 * `ModuleResources.with(decisionsModule, …)`.
 */
export interface DecisionsResources {
  embedder: Embedder;
  extractor: Extractor;
  /** The current secret first, then the one being rotated out; empty: the webhook is not configured. */
  webhookSecrets: readonly string[];
}

/**
 * The offline defaults: the hashing embedder and the rule-based extractor (no model, no network), and no
 * webhook secret.
 */
export function defaultDecisionsResources(): DecisionsResources {
  return { embedder: hashingEmbedder, extractor: ruleBasedExtractor, webhookSecrets: [] };
}

/** The defaults, with the webhook secrets `env` sets (read once, when the modules are composed). */
export function decisionsResourcesFromEnv(env: NodeJS.ProcessEnv): DecisionsResources {
  return { ...defaultDecisionsResources(), webhookSecrets: webhookSecretsFromEnv(env) };
}
