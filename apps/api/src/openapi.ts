import { IDEMPOTENCY_KEY_HEADER } from '@huddle/client/idempotency-key';
import { WAL_POSITION_HEADER } from '@huddle/client/read-position';
import type { DomainModule } from '@huddle/db';
import type { AnyTRPCProcedure, AnyTRPCRouter } from '@trpc/server';
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { z } from 'zod';
import packageJson from '../package.json' with { type: 'json' };
import type { ProcedureMeta } from './trpc.ts';

/** Where the API serves its own description. */
export const OPENAPI_PATH = '/openapi.json';

/**
 * The body of every failed call: tRPC's error shape with what trpc.ts's errorFormatter adds. `code` is the
 * JSON-RPC number, `data.code` its name; `path` is absent when the request named no procedure it could parse.
 */
const errorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    code: z.int(),
    data: z.object({
      code: z.enum(Object.keys(TRPC_ERROR_CODES_BY_KEY) as [TRPC_ERROR_CODE_KEY, ...TRPC_ERROR_CODE_KEY[]]),
      httpStatus: z.int(),
      path: z.string().optional(),
      field: z.string().nullable(),
      constraint: z.string().nullable(),
      retryAfter: z.number().nullable(),
      outcome: z.literal('unknown').nullable(),
    }),
  }),
});

type JsonSchema = z.core.JSONSchema.BaseSchema;

/**
 * A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), for what a client sends (`input`: the input
 * side of transforms and pipes, defaults optional) or what it receives (`output`). What JSON Schema cannot
 * say (a transform's result, a date) becomes `{}`, any value; a recursive schema throws, since its `$ref`
 * would point at the document's root once embedded.
 */
function jsonSchemaOf(schema: z.core.$ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    cycles: 'throw',
  });
  return json;
}

/** A procedure's parser as a zod schema; anything else cannot be described, and says where it is. */
function zodParser(path: string, parser: unknown): z.core.$ZodType {
  if (parser instanceof z.core.$ZodType) return parser;
  throw new Error(
    `openapi: ${path} has a parser that is not a zod schema, which /openapi.json cannot describe`,
  );
}

/** The input of a procedure as one schema (tRPC merges several `.input()` objects), and whether it may be left out. */
function inputOf(path: string, parsers: readonly unknown[]) {
  const schemas = parsers.map((parser) => zodParser(path, parser));
  if (schemas.length === 0) return undefined;
  const described = schemas.map((schema) => jsonSchemaOf(schema, 'input'));
  return {
    schema: described.length === 1 ? described[0]! : { allOf: described },
    // `optin` is zod's own mark of a schema that accepts `undefined` (`.optional()`, `.default()`, `.prefault()`).
    required: schemas.some((schema) => schema._zod.optin === undefined),
  };
}

/** tRPC's success envelope around a procedure's output: `{ "result": { "data": … } }`. */
function resultEnvelope(path: string, output: unknown): JsonSchema {
  const schema = output === undefined ? undefined : zodParser(path, output);
  const data = schema ? jsonSchemaOf(schema, 'output') : {};
  const dataRequired = schema !== undefined && schema._zod.optout === undefined;
  return {
    type: 'object',
    properties: {
      result: { type: 'object', properties: { data }, ...(dataRequired && { required: ['data'] }) },
    },
    required: ['result'],
  };
}

/** How a client sends a JSON input in a GET's query string (tRPC's non-batched `?input=`). */
function inputParameter(input: { schema: JsonSchema; required: boolean }) {
  return {
    name: 'input',
    in: 'query',
    required: input.required,
    description: 'The input as JSON, URL-encoded (`?input=%7B%22sessionId%22%3A1%7D`).',
    content: { 'application/json': { schema: input.schema } },
  };
}

const DESCRIPTION = `Huddle's tRPC API as plain HTTP, generated from the router's own zod schemas.

- A **query** is \`GET /<procedure>?input=<URL-encoded JSON>\` (leave \`input\` out when the procedure takes none).
- A **mutation** is \`POST /<procedure>\` with the input as the JSON body (\`content-type: application/json\`).
- A **subscription** is \`GET /<procedure>?input=…\` answered as Server-Sent Events (\`text/event-stream\`).
- A result comes as \`{ "result": { "data": <output> } }\`; a failure as \`{ "error": { … } }\` with the HTTP status
  of \`error.data.httpStatus\` (\`components.schemas.Error\`): \`data.field\` names the input field at fault, a 429 or
  503 carries \`retry-after\` (and \`data.retryAfter\`); a 503 with \`data.outcome: "unknown"\` may have applied the
  mutation, so retry it with the same \`${IDEMPOTENCY_KEY_HEADER}\`.
- Each module has its own bearer token (\`components.securitySchemes\`): the sign-in procedures hand them out.`;

/**
 * An OpenAPI 3.1 document of every procedure of `router`, found by walking it: paths, methods and inputs
 * as tRPC's HTTP adapter takes them, outputs in tRPC's envelope, the bearer token each procedure requires
 * (the `tokenModule` its builder declares, ProcedureMeta) with `modules`' sign-in hints, and the error body.
 */
export function openApiDocument(router: AnyTRPCRouter, modules: readonly DomainModule[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  const tokenModules = new Set<string>();
  // `_def.procedures` holds every procedure by its full path (`poker.sessions.get`), sub-routers flattened.
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure>;
  for (const [path, procedure] of Object.entries(procedures)) {
    const definition = procedure._def;
    const meta = definition.meta as ProcedureMeta | undefined;
    const tokenModule = meta?.tokenModule;
    if (tokenModule) tokenModules.add(tokenModule);
    const input = inputOf(path, definition.inputs);
    const common = {
      operationId: path,
      tags: [path.split('.')[0]],
      security: tokenModule ? [{ [tokenModule]: [] }] : [],
    };
    const errors = { default: { $ref: '#/components/responses/Error' } };
    if (definition.type === 'subscription') {
      paths[`/${path}`] = {
        get: {
          ...common,
          summary: 'Subscription: a stream of Server-Sent Events',
          parameters: input ? [inputParameter(input)] : [],
          responses: {
            200: {
              description:
                "An event stream: each event `data:` is one JSON event; `event: serialized-error` carries an error body (`data` as `components.schemas.Error`'s `error`), `event: return` ends the stream, `event: ping` keeps it alive.",
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errors,
          },
        },
      };
      continue;
    }
    // `output` is on every built procedure's definition, though tRPC's public type leaves it out.
    const output = 'output' in definition ? definition.output : undefined;
    const result = { 'application/json': { schema: resultEnvelope(path, output) } };
    if (definition.type === 'query') {
      paths[`/${path}`] = {
        get: {
          ...common,
          parameters: [
            ...(input ? [inputParameter(input)] : []),
            ...(tokenModule ? [{ $ref: '#/components/parameters/ReadPosition' }] : []),
          ],
          responses: { 200: { description: 'The result', content: result }, ...errors },
        },
      };
      continue;
    }
    paths[`/${path}`] = {
      post: {
        ...common,
        parameters: tokenModule ? [{ $ref: '#/components/parameters/IdempotencyKey' }] : [],
        ...(input && {
          requestBody: {
            required: input.required,
            content: { 'application/json': { schema: input.schema } },
          },
        }),
        responses: {
          200: {
            description: 'The result',
            headers: { [WAL_POSITION_HEADER]: { $ref: '#/components/headers/WritePosition' } },
            content: result,
          },
          ...errors,
        },
      },
    };
  }
  const securitySchemes = Object.fromEntries(
    [...tokenModules].sort().map((name) => {
      const hint = modules.find((module) => module.name === name)?.signInHint;
      return [
        name,
        {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A ${name} token${hint ? `: ${hint}` : ''}.`,
        },
      ];
    }),
  );
  return {
    openapi: '3.1.1',
    info: { title: 'Huddle API', version: packageJson.version, description: DESCRIPTION },
    externalDocs: { url: packageJson.homepage },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(errorBodySchema, 'output') },
      responses: {
        Error: {
          description: 'The call failed: `error.data.code` says why, `error.message` what to do',
          headers: { 'retry-after': { $ref: '#/components/headers/RetryAfter' } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      parameters: {
        IdempotencyKey: {
          name: IDEMPOTENCY_KEY_HEADER,
          in: 'header',
          required: false,
          description:
            'Makes a retried mutation safe (1–255 visible ASCII characters, e.g. a UUID): the first result is stored with the key, and a retry with the same key and input gets it without running again.',
          schema: { type: 'string' },
        },
        ReadPosition: {
          name: WAL_POSITION_HEADER,
          in: 'header',
          required: false,
          description: `Read your writes with read replicas: the \`${WAL_POSITION_HEADER}\` of your last mutation's response; the query runs where that write is visible.`,
          schema: { type: 'string' },
        },
      },
      headers: {
        WritePosition: {
          description: `With read replicas, the database position after this mutation: send it as \`${WAL_POSITION_HEADER}\` on later queries.`,
          schema: { type: 'string' },
        },
        RetryAfter: {
          description: 'Seconds after which a refused call (429, 503) is worth retrying.',
          schema: { type: 'integer', minimum: 0 },
        },
      },
      securitySchemes,
    },
  };
}
