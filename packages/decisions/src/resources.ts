import { ConfigurationError } from '@huddle/db';
import { type Extractor, ruleBasedExtractor } from './extraction/extractor.ts';
import {
  DECISIONS_EXTRACTOR_KEY_VARIABLE,
  DECISIONS_EXTRACTOR_MODEL_VARIABLE,
  DECISIONS_EXTRACTOR_TIMEOUT_VARIABLE,
  DECISIONS_EXTRACTOR_URL_VARIABLE,
  modelExtractor,
} from './extraction/model-extractor.ts';
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

/**
 * The module's resources as the environment sets them (read once, when the modules are composed): the
 * webhook secrets it sets, and the default embedder and extractor, unless HUDDLE_DECISIONS_EXTRACTOR_URL
 * names an OpenAI-compatible model server (with HUDDLE_DECISIONS_EXTRACTOR_MODEL, and _KEY and _TIMEOUT_MS
 * when needed): then extraction asks that server, falling back to the rule-based extractor (with a
 * process warning saying why) whenever the server fails.
 */
export function decisionsResourcesFromEnv(env: NodeJS.ProcessEnv): DecisionsResources {
  const defaults = { ...defaultDecisionsResources(), webhookSecrets: webhookSecretsFromEnv(env) };
  const url = env[DECISIONS_EXTRACTOR_URL_VARIABLE]?.trim();
  if (!url) return defaults;
  if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) {
    throw new ConfigurationError(
      `${DECISIONS_EXTRACTOR_URL_VARIABLE}: must be an http(s) URL such as http://localhost:11434/v1, got ${url}`,
    );
  }
  const model = env[DECISIONS_EXTRACTOR_MODEL_VARIABLE]?.trim();
  if (!model) {
    throw new ConfigurationError(
      `${DECISIONS_EXTRACTOR_MODEL_VARIABLE}: required with ${DECISIONS_EXTRACTOR_URL_VARIABLE} (the model the server runs)`,
    );
  }
  const timeout = env[DECISIONS_EXTRACTOR_TIMEOUT_VARIABLE]?.trim();
  const timeoutMs = timeout ? Number(timeout) : undefined;
  if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) {
    throw new ConfigurationError(
      `${DECISIONS_EXTRACTOR_TIMEOUT_VARIABLE}: must be a positive whole number of milliseconds, got ${timeout}`,
    );
  }
  const apiKey = env[DECISIONS_EXTRACTOR_KEY_VARIABLE]?.trim();
  return {
    ...defaults,
    extractor: modelExtractor({
      url,
      model,
      ...(apiKey && { apiKey }),
      ...(timeoutMs && { timeoutMs }),
      onFallback: (reason) =>
        process.emitWarning(`decisions extractor: ${reason}; the rule-based extractor was used instead`),
    }),
  };
}
