import fc from 'fast-check';
import { z } from 'zod';

/**
 * Inputs for any procedure, derived from its zod input schema through `z.toJSONSchema` (zod 4): valid ones,
 * and mutations of them that a careless or hostile client sends. Works for whatever a module declares —
 * objects, strings with length/pattern/format, integers and numbers with bounds, enums and literals, arrays,
 * optional/nullable/default, unions and discriminated unions, records, recursive schemas.
 */

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

/** Past this depth a recursive schema stops growing (null ends the branch). */
const MAX_DEPTH = 4;
/** Valid strings and arrays stay short: the limits are probed by the mutations. */
const EXTRA_LENGTH = 24;
const EXTRA_ITEMS = 6;

function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  if (ref === '#') return root;
  const name = ref.replace(/^#\/(\$defs|definitions)\//, '');
  return root.$defs?.[name] ?? {};
}

function formatArbitrary(format: string | undefined): fc.Arbitrary<string> | undefined {
  switch (format) {
    case 'email':
      return fc.emailAddress();
    case 'date-time':
      return fc.date({ noInvalidDate: true }).map((date) => date.toISOString());
    case 'date':
      return fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
    case 'uuid':
      return fc.uuid();
    case 'uri':
    case 'url':
      return fc.webUrl();
    default:
      return undefined;
  }
}

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? minLength + EXTRA_LENGTH, minLength + EXTRA_LENGTH);
  // A format says more than a pattern beside it (a URL restricted to printable ASCII is still a URL).
  const formatted = formatArbitrary(schema.format);
  if (formatted) {
    const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern);
    return pattern ? formatted.filter((value) => pattern.test(value)) : formatted;
  }
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
  // zod counts UTF-16 code units and a code point takes up to two; `trim()` before `min()` is common, so a
  // string meant to be long enough is not all blanks.
  const unicodeMax = Math.floor(maxLength / 2);
  const strings =
    unicodeMax >= minLength
      ? fc.oneof(
          { weight: 3, arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme-ascii' }) },
          { weight: 1, arbitrary: fc.string({ minLength, maxLength: unicodeMax, unit: 'grapheme' }) },
        )
      : fc.string({ minLength, maxLength, unit: 'grapheme-ascii' });
  return minLength > 0 ? strings.filter((value) => value.trim().length >= minLength) : strings;
}

function numberArbitrary(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const step = integer ? 1 : 0;
  const min = schema.minimum ?? (schema.exclusiveMinimum ?? Number.NaN) + step;
  const max = schema.maximum ?? (schema.exclusiveMaximum ?? Number.NaN) - step;
  const low = Number.isNaN(min) ? Number.MIN_SAFE_INTEGER : min;
  const high = Number.isNaN(max) ? Number.MAX_SAFE_INTEGER : max;
  if (!integer) {
    return fc.double({
      min: low,
      max: high,
      noNaN: true,
      noDefaultInfinity: true,
      minExcluded: schema.exclusiveMinimum !== undefined,
      maxExcluded: schema.exclusiveMaximum !== undefined,
    });
  }
  // Mostly small values near the lower bound: ids of rows that exist, positions, counts.
  const near = Math.min(Math.max(0, low), high);
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: near, max: Math.min(high, near + 3) }) },
    { weight: 2, arbitrary: fc.integer({ min: near, max: Math.min(high, near + 30) }) },
    { weight: 1, arbitrary: fc.integer({ min: Math.ceil(low), max: Math.floor(high) }) },
  );
}

function objectArbitrary(schema: JsonSchema, root: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries(properties))
    model[key] = arbitraryOf(property, root, depth + 1);
  const known = fc.record(model, {
    requiredKeys: (schema.required ?? []).filter((key) => key in properties),
  });
  const extra = schema.additionalProperties;
  if (typeof extra !== 'object') return known;
  const keys = schema.propertyNames
    ? arbitraryOf(schema.propertyNames, root, depth + 1)
    : fc.string({ maxLength: 12 });
  const entries = fc.dictionary(
    keys.filter((key): key is string => typeof key === 'string'),
    arbitraryOf(extra, root, depth + 1),
    { maxKeys: 4 },
  );
  return fc.tuple(entries, known).map(([more, fixed]) => ({ ...more, ...(fixed as object) }));
}

function arbitraryOf(schema: JsonSchema, root: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return fc.constant(null);
  if (schema.$ref) return arbitraryOf(resolveRef(root, schema.$ref), root, depth + 1);
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((option) => arbitraryOf(option, root, depth)));
  if (schema.allOf) {
    const merged = schema.allOf.map((part) => (part.$ref ? resolveRef(root, part.$ref) : part));
    return arbitraryOf(
      {
        type: 'object',
        properties: Object.assign({}, ...merged.map((part) => part.properties ?? {})),
        required: merged.flatMap((part) => part.required ?? []),
      },
      root,
      depth,
    );
  }
  if (Array.isArray(schema.type)) {
    return fc.oneof(...schema.type.map((type) => arbitraryOf({ ...schema, type }, root, depth)));
  }
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return numberArbitrary(schema, true);
    case 'number':
      return numberArbitrary(schema, false);
    case 'array': {
      if (schema.prefixItems) {
        return fc.tuple(...schema.prefixItems.map((item) => arbitraryOf(item, root, depth + 1)));
      }
      const minLength = schema.minItems ?? 0;
      // Deep down (a recursive schema), arrays stay as short as allowed so the value ends.
      if (depth >= MAX_DEPTH - 1 && minLength === 0) return fc.constant([]);
      const maxLength = Math.min(schema.maxItems ?? minLength + EXTRA_ITEMS, minLength + EXTRA_ITEMS);
      return fc.array(arbitraryOf(schema.items ?? {}, root, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectArbitrary(schema, root, depth);
  }
  if (schema.properties) return objectArbitrary(schema, root, depth);
  return fc.jsonValue({ maxDepth: 2 });
}

/** The JSON Schema of `schema`; any JSON value where zod cannot express it (then the harness sends anything). */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  try {
    return z.toJSONSchema(schema, { io, unrepresentable: 'any', cycles: 'ref' }) as JsonSchema;
  } catch {
    return {};
  }
}

/**
 * Valid inputs of `schema`: from the schema as a client writes it (io: input) and as it reads after parsing
 * (io: output — a pipe's second half, e.g. an email format after `text().max(255)`, shows only there).
 */
export function validInputs(schema: z.ZodType | undefined): fc.Arbitrary<unknown> {
  if (!schema) return fc.constant(undefined);
  const input = jsonSchemaOf(schema, 'input');
  const output = jsonSchemaOf(schema, 'output');
  return fc.oneof(arbitraryOf(input, input, 0), arbitraryOf(output, output, 0));
}

/** Deeply nested arrays or objects: the parser, the validator and the service must all stay standing. */
function nested(depth: number, asObject: boolean): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = asObject ? { a: value } : [value];
  return value;
}

/** Values that are wrong almost everywhere: types, boundaries, out-of-range numbers, hostile strings. */
export const hostileValues: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    0,
    -1,
    1.5,
    -0.5,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    1e308,
    -1e308,
    Number.MIN_VALUE,
    '',
    ' ',
    '0',
    '1',
    '-1',
    'NaN',
    'null',
    'true',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'é\udeea',
    `OWNED ${'é\udeea'.repeat(15)}`,
    '\udc00x',
    '\u202eevil',
    "' or 1=1 --",
    "'); drop table poker.users; --",
    '{{7*7}}',
    '__proto__',
    '🙂'.repeat(300),
    'x'.repeat(100_000),
    true,
    false,
    null,
    [],
    {},
    [null],
    { constructor: { prototype: { polluted: true } } },
    JSON.parse('{"__proto__":{"polluted":true}}'),
  ),
  fc.integer({ min: 1, max: 1_000 }).map((depth) => nested(depth, depth % 2 === 0)),
  fc.array(fc.integer(), { minLength: 10_001, maxLength: 10_050 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A body or query that is not JSON at all, or JSON that JavaScript's parser turns into a non-finite number. */
export const rawBodies: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'NaN',
    'Infinity',
    '{"sessionId":1e400}',
    '{"storyId":-1e400,"points":"5"}',
    '{"a":',
    '{"json":{}}',
    '"\\ud800"',
    '[]'.repeat(1000),
    '['.repeat(100_000),
    '{"a":'.repeat(20_000),
    '\u0000',
  ),
  fc.string({ maxLength: 60, unit: 'binary' }),
);

type Path = (string | number)[];

/** Every place in `value` a mutation can hit: the root, each key and each element, depth-first. */
function paths(value: unknown, at: Path = []): Path[] {
  const found: Path[] = [at];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) found.push(...paths(item, [...at, index]));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) found.push(...paths(item, [...at, key]));
  }
  return found;
}

/** `value` with the node at `path` replaced by what `change` makes of it (undefined removes it). */
function changeAt(value: unknown, path: Path, change: (node: unknown) => unknown): unknown {
  if (path.length === 0) return change(value);
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[head as number] = changeAt(copy[head as number], rest, change);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const changed = changeAt(copy[head as string], rest, change);
  if (changed === undefined) delete copy[head as string];
  else copy[head as string] = changed;
  return copy;
}

const MUTATIONS = ['replace', 'remove', 'add-field', 'wrap', 'nothing'] as const;

/** Valid inputs of `schema`, then broken: one node replaced, removed or wrapped, an unknown field added, or no input. */
export function mutatedInputs(schema: z.ZodType | undefined): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      validInputs(schema),
      fc.constantFrom(...MUTATIONS),
      fc.nat(),
      hostileValues,
      fc.constantFrom('extra', '__proto__', 'constructor', 'id', 'userId', 'json'),
    )
    .map(([valid, mutation, pick, hostile, field]) => {
      const places = paths(valid);
      const place = places[pick % places.length]!;
      switch (mutation) {
        case 'replace':
          return changeAt(valid, place, () => hostile);
        case 'remove':
          return place.length === 0 ? undefined : changeAt(valid, place, () => undefined);
        case 'add-field':
          return changeAt(valid, place, (node) =>
            typeof node === 'object' && node !== null && !Array.isArray(node)
              ? { ...node, [field]: hostile }
              : { [field]: hostile, value: node },
          );
        case 'wrap':
          return changeAt(valid, place, (node) => [node]);
        default:
          return undefined;
      }
    });
}
