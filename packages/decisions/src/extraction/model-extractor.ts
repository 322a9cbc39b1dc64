import { text } from '@huddle/db/zod';
import { z } from 'zod';
import { DECISION_STATEMENT_MAX_LENGTH } from '../schemas.ts';
import { type Extractor, MAX_PROPOSALS, type ProposedDecision, ruleBasedExtractor } from './extractor.ts';

/** The model server's base URL (`…/v1`); unset, extraction is rule-based (the default). */
export const DECISIONS_EXTRACTOR_URL_VARIABLE = 'HUDDLE_DECISIONS_EXTRACTOR_URL';
/** The model the server runs for extraction; required with the URL. */
export const DECISIONS_EXTRACTOR_MODEL_VARIABLE = 'HUDDLE_DECISIONS_EXTRACTOR_MODEL';
/** Sent as `Authorization: Bearer <key>`; local servers often need none. */
export const DECISIONS_EXTRACTOR_KEY_VARIABLE = 'HUDDLE_DECISIONS_EXTRACTOR_KEY';
/** How long one extraction may wait for the server, in milliseconds (default 30,000). */
export const DECISIONS_EXTRACTOR_TIMEOUT_VARIABLE = 'HUDDLE_DECISIONS_EXTRACTOR_TIMEOUT_MS';

const DEFAULT_TIMEOUT_MS = 30_000;
/** The most of an answer read: a server that sends more is failing. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** Confidence when the model gives none. */
const DEFAULT_CONFIDENCE = 0.6;

export interface ModelExtractorOptions {
  /** The server's base URL, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`. */
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  /** What extracts when the server fails: the rule-based extractor unless given. */
  fallback?: Extractor;
  /** Told why an answer was not used (the fallback's was): for the operator's log. */
  onFallback?: (reason: string) => void;
}

const SYSTEM_PROMPT = [
  'You read meeting transcripts and list the decisions the meeting made.',
  'A decision is a commitment the meeting makes now ("we will adopt", "from now on", a proposal others agree to).',
  'Discussions, questions, hypotheticals, postponements and past events are not decisions.',
  'Answer with one JSON object and nothing else: {"decisions": [{"title": "<short imperative title>",',
  '"statement": "<the sentence that decides>", "rationale": "<why, or null>", "confidence": <0 to 1>,',
  '"for": ["<speaker>"], "against": ["<speaker>"], "abstain": ["<speaker>"]}]}. No decisions: {"decisions": []}.',
].join(' ');

const names = z.array(text().trim().min(1).max(100)).max(500).default([]);
/** The model's answer: bounded, well-formed text only (what the database can store). */
const modelDecisionsSchema = z.object({
  decisions: z
    .array(
      z.object({
        title: text().trim().min(1),
        statement: text().trim().min(1),
        rationale: text().trim().nullish(),
        confidence: z.number().min(0).max(1).optional(),
        for: names,
        against: names,
        abstain: names,
      }),
    )
    .max(MAX_PROPOSALS),
});
const chatCompletionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1),
});

/** The body of a response, refusing more than MAX_ANSWER_BYTES. */
async function boundedText(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A message's content without a Markdown code fence around it (some models add one). */
function unfenced(content: string): string {
  const trimmed = content.trim();
  if (!trimmed.startsWith('```')) return trimmed;
  const firstLineEnd = trimmed.indexOf('\n');
  const body = firstLineEnd === -1 ? '' : trimmed.slice(firstLineEnd + 1);
  return body.endsWith('```') ? body.slice(0, -3) : body;
}

/** The JSON in `text`, or an error saying what was wrong. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON`);
  }
}

/** Why the server's answer was not used, in a few words. */
function fallbackReason(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}

function cut(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max);
}

/**
 * An extractor that asks a model server over the OpenAI-compatible chat-completions protocol (`POST
 * <url>/chat/completions`, JSON mode) to list a transcript's decisions. Whatever goes wrong — the server
 * unreachable, slower than `timeoutMs`, answering other than 200, or with something other than the JSON
 * asked for — the fallback (the rule-based extractor) extracts instead and `onFallback` is told why, so
 * extraction never fails because of the server. Its services call it, like any extractor, with no
 * transaction open.
 */
export function modelExtractor(options: ModelExtractorOptions): Extractor {
  const {
    model,
    apiKey,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    fallback = ruleBasedExtractor,
    onFallback,
  } = options;
  let base = options.url;
  while (base.endsWith('/')) base = base.slice(0, -1);
  const endpoint = `${base}/chat/completions`;
  const ask = async (transcript: { title: string; content: string }): Promise<ProposedDecision[]> => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(apiKey && { authorization: `Bearer ${apiKey}` }),
      },
      body: JSON.stringify({
        model,
        temperature: 0,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: `Meeting: ${transcript.title}\n\n${transcript.content}` },
        ],
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await boundedText(response);
    if (response.status !== 200) throw new Error(`the server answered ${response.status}`);
    const completion = chatCompletionSchema.safeParse(parseJson(body, 'the answer'));
    if (!completion.success) throw new Error('the answer is not a chat completion');
    const content = unfenced(completion.data.choices[0]!.message.content);
    const decisions = modelDecisionsSchema.safeParse(parseJson(content, "the model's message"));
    if (!decisions.success)
      throw new Error(`the model's message does not list decisions: ${decisions.error.issues[0]?.message}`);
    return decisions.data.decisions.map((decision) => ({
      title: cut(decision.title, 300),
      statement: cut(decision.statement, DECISION_STATEMENT_MAX_LENGTH),
      rationale: decision.rationale ? cut(decision.rationale, 20_000) : null,
      confidence: Math.round((decision.confidence ?? DEFAULT_CONFIDENCE) * 100) / 100,
      consensus: { for: decision.for, against: decision.against, abstain: decision.abstain },
    }));
  };
  return {
    name: `chat-completions:${model}`,
    async extract(transcript) {
      try {
        return await ask(transcript);
      } catch (error) {
        onFallback?.(`${endpoint}: ${fallbackReason(error, timeoutMs)}`);
        return fallback.extract(transcript);
      }
    },
  };
}
