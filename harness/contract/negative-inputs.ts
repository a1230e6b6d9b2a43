/**
 * Schema-derived negative inputs (SPEC §4 "contract" lane): for an operation with a JSON
 * request body, bodies that the contract rejects (missing required fields, wrong types,
 * pattern/enum/format/range/length violations, unknown fields, too few properties), a
 * malformed JSON body and an oversize body. A correct server answers each with a 4xx and the
 * error envelope (`invalid_request`, or `payload_too_large` for the oversize body), never a
 * 5xx or a hang.
 *
 * Everything is deterministic (no randomness): the same schema and example give the same
 * cases, byte for byte, so reports are reproducible. Each schema case changes one thing in a
 * valid example, so a 2xx answer points at exactly the rule the server does not enforce.
 *
 * @see contracts/runtime.openapi.yaml (request schemas are strict: `additionalProperties: false`)
 */

export type NegativeCaseKind =
  | 'missing-required'
  | 'wrong-type'
  | 'not-in-enum'
  | 'pattern'
  | 'bad-format'
  | 'below-minimum'
  | 'above-maximum'
  | 'too-short'
  | 'too-long'
  | 'too-few-items'
  | 'too-many-items'
  | 'duplicate-items'
  | 'too-few-properties'
  | 'unknown-field'
  | 'malformed-json'
  | 'oversize';

export interface NegativeCase {
  /** `<kind>:<field>`, unique per operation, e.g. `missing-required:event_type`, `oversize:$`. */
  name: string;
  kind: NegativeCaseKind;
  /** Where and what, e.g. ``max_sats = 0, below minimum 1``. */
  description: string;
  /** The raw request body text to send. */
  body: string;
  contentType: string;
  /** The error code the contract documents for this input (400 `invalid_request`, 413 `payload_too_large`). */
  expectedErrorCode: 'invalid_request' | 'payload_too_large';
}

export interface ExampleOptions {
  /**
   * Reference time for `format: date-time` values, which are set 10 minutes after it (so
   * TTL caps such as `max_offer_ttl_seconds` accept them). Default: the fixed time
   * `2099-01-01T00:00:00Z`, which keeps output independent of the clock.
   */
  now?: Date;
}

export interface NegativeRequestOptions extends ExampleOptions {
  /** A valid body to derive the cases from. Default: `buildValidExample(schema, { now })`. */
  example?: unknown;
  /** Length of the string that makes the oversize body. Default 2 MiB (the server default limit is 1 MiB). */
  oversizeBytes?: number;
}

/** The part of an `OperationSpec` (contracts/openapi-operations.ts) used here: its dereferenced body schema. */
export interface OperationWithBody {
  requestBody?: { schema: Record<string, unknown> };
}

const JSON_CONTENT_TYPE = 'application/json';
const DEFAULT_OVERSIZE_BYTES = 2 * 1024 * 1024;
const UNKNOWN_FIELD = 'runtime_gate_unknown_field';
const NOT_IN_ENUM = 'runtime-gate-not-in-enum';
const DEFAULT_FUTURE_TIME = '2099-01-01T00:00:00Z';
const MAX_DEPTH = 32;

/**
 * Negative cases for an operation's JSON request body, in a stable order: missing required
 * fields, the body's own type, then per top-level property (schema order) its type, enum,
 * pattern, format, range, length and item rules, then unknown field, too few properties,
 * malformed JSON and oversize. Returns `[]` for an operation without a JSON body.
 *
 * The caller's `example` must be valid; cases for properties it lacks add that property.
 */
export function negativeRequests(operation: OperationWithBody, options: NegativeRequestOptions = {}): NegativeCase[] {
  const rawSchema = operation.requestBody?.schema;
  if (!rawSchema) return [];
  const schema = mergeAllOf(rawSchema);
  const example = options.example !== undefined ? options.example : buildValidExample(rawSchema, options);
  const cases: NegativeCase[] = [];
  const add = (kind: NegativeCaseKind, field: string, description: string, body: string): void => {
    cases.push({
      name: `${kind}:${field}`,
      kind,
      description,
      body,
      contentType: JSON_CONTENT_TYPE,
      expectedErrorCode: kind === 'oversize' ? 'payload_too_large' : 'invalid_request',
    });
  };
  const base = asObject(example);
  const types = typesOf(schema);

  if (base) {
    for (const name of stringList(schema.required)) {
      if (!(name in base)) continue;
      const { [name]: _omitted, ...rest } = base;
      add('missing-required', name, `body without required field ${name}`, JSON.stringify(rest));
    }
    if (types?.has('object') && !types.has('array')) add('wrong-type', '$', 'body is a JSON array, not an object', '[]');
    const properties = asObject(schema.properties) ?? {};
    for (const [name, rawProperty] of Object.entries(properties)) {
      for (const violation of propertyViolations(name, rawProperty, base[name], options)) {
        add(violation.kind, name, violation.description, JSON.stringify({ ...base, [name]: violation.value }));
      }
    }
    if (schema.additionalProperties === false || schema.unevaluatedProperties === false) {
      let field = UNKNOWN_FIELD;
      while (field in properties) field = `${field}_`;
      add('unknown-field', '$', `body with unknown field ${field} (additionalProperties: false)`, JSON.stringify({ ...base, [field]: true }));
    }
    const minProperties = numberOr(schema.minProperties);
    if (minProperties !== undefined && minProperties >= 1) {
      const required = stringList(schema.required);
      const keys = [...required.filter((k) => k in base), ...Object.keys(base).filter((k) => !required.includes(k))].slice(0, minProperties - 1);
      const fewer = Object.fromEntries(keys.map((k) => [k, base[k]]));
      add('too-few-properties', '$', `body with ${keys.length} ${keys.length === 1 ? 'property' : 'properties'}, below minProperties ${minProperties}`, JSON.stringify(fewer));
    }
  } else if (types && !types.has('array')) {
    add('wrong-type', '$', 'body is a JSON array', '[]');
  }

  const valid = JSON.stringify(example);
  add('malformed-json', '$', 'truncated JSON (last character removed)', valid.slice(0, -1));
  add('oversize', '$', ...oversizeBody(schema, base, example, options.oversizeBytes ?? DEFAULT_OVERSIZE_BYTES));
  return cases;
}

/**
 * A minimal body valid against `schema` (a dereferenced JSON Schema): required properties
 * only (plus optional ones up to `minProperties`), `const`/first `enum` value, the lowest
 * value in range, strings of the minimum length or generated from `pattern`, booleans
 * `false` (e.g. `verification_passed: false` never triggers a payment). Throws when it cannot
 * satisfy a schema (unsupported pattern, recursion deeper than 32); pass an example instead.
 */
export function buildValidExample(schema: Record<string, unknown>, options: ExampleOptions = {}): unknown {
  return build(schema, options, '$', 0);
}

// ------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

interface Violation {
  kind: NegativeCaseKind;
  description: string;
  value: unknown;
}

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function accepts(types: Set<string>, type: string): boolean {
  return types.has(type) || (type === 'integer' && types.has('number'));
}

/** Declared types, or inferred from the keywords present; undefined when unconstrained. */
function typesOf(schema: Json): Set<string> | undefined {
  const raw = schema.type;
  if (typeof raw === 'string') return new Set([raw]);
  if (Array.isArray(raw)) return new Set(stringList(raw));
  if ('const' in schema) return new Set([jsonType(schema.const)]);
  if (Array.isArray(schema.enum)) return new Set(schema.enum.map(jsonType));
  if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return new Set(['object']);
  if ('items' in schema || 'minItems' in schema) return new Set(['array']);
  if ('pattern' in schema || 'minLength' in schema || 'maxLength' in schema || 'format' in schema) return new Set(['string']);
  if ('minimum' in schema || 'maximum' in schema) return new Set(['number']);
  return undefined;
}

const LOWER_BOUNDS = new Set(['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']);
const UPPER_BOUNDS = new Set(['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']);

/** `allOf` folded into one schema; clashing property schemas become `{ allOf: [a, b] }` (merged when visited). */
function mergeAllOf(schema: unknown, depth = 0): Json {
  const node = asObject(schema) ?? {};
  if (!Array.isArray(node.allOf) || depth > MAX_DEPTH) return node;
  const { allOf, ...rest } = node;
  let out: Json = rest;
  for (const branch of allOf) out = mergeTwo(out, mergeAllOf(branch, depth + 1));
  return out;
}

function mergeTwo(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    if (prev === undefined) {
      out[key] = value;
    } else if (key === 'properties') {
      const props: Json = { ...(asObject(prev) ?? {}) };
      for (const [name, sub] of Object.entries(asObject(value) ?? {})) props[name] = name in props ? { allOf: [props[name], sub] } : sub;
      out[key] = props;
    } else if (key === 'required') {
      out[key] = [...new Set([...stringList(prev), ...stringList(value)])];
    } else if (key === 'type') {
      const left = typesOf({ type: prev }) ?? new Set<string>();
      const right = typesOf({ type: value }) ?? new Set<string>();
      out[key] = [...left].filter((t) => accepts(right, t)).concat([...right].filter((t) => t === 'integer' && left.has('number')));
    } else if (key === 'enum' && Array.isArray(prev) && Array.isArray(value)) {
      const keys = new Set(value.map((v) => JSON.stringify(v)));
      out[key] = prev.filter((v) => keys.has(JSON.stringify(v)));
    } else if (LOWER_BOUNDS.has(key) && typeof prev === 'number' && typeof value === 'number') {
      out[key] = Math.max(prev, value);
    } else if (UPPER_BOUNDS.has(key) && typeof prev === 'number' && typeof value === 'number') {
      out[key] = Math.min(prev, value);
    } else if (key === 'additionalProperties' || key === 'unevaluatedProperties') {
      out[key] = prev === false || value === false ? false : prev;
    } else if (key === 'items') {
      out[key] = { allOf: [prev, value] };
    } else {
      out[key] = value;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------- examples

function build(rawSchema: unknown, options: ExampleOptions, at: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Error(`buildValidExample: schema nests deeper than ${MAX_DEPTH} levels at ${at}`);
  let schema = mergeAllOf(rawSchema);
  const variants = Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : undefined;
  if (variants && variants.length > 0) {
    const { oneOf: _oneOf, anyOf: _anyOf, ...rest } = schema;
    schema = mergeTwo(rest, mergeAllOf(variants[0]));
  }
  if ('const' in schema) return schema.const;
  const types = typesOf(schema);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return schema.enum.find((v) => !types || accepts(types, jsonType(v))) ?? schema.enum[0];
  }
  const type = types ? ([...types].find((t) => t !== 'null') ?? 'null') : 'object';
  switch (type) {
    case 'object':
      return buildObject(schema, options, at, depth);
    case 'array': {
      const count = numberOr(schema.minItems) ?? 0;
      const items = asObject(schema.items) ? schema.items : {};
      const itemEnum = mergeAllOf(items).enum;
      const out: unknown[] = [];
      for (let i = 0; i < count; i++) {
        // uniqueItems with several required items: take distinct enum values when there are some.
        out.push(schema.uniqueItems === true && Array.isArray(itemEnum) && i < itemEnum.length ? itemEnum[i] : build(items, options, `${at}[${i}]`, depth + 1));
      }
      return out;
    }
    case 'string':
      return buildString(schema, options, at);
    case 'integer':
    case 'number':
      return buildNumber(schema, type === 'integer');
    case 'boolean':
      return false;
    default:
      return null;
  }
}

function buildObject(schema: Json, options: ExampleOptions, at: string, depth: number): Json {
  const properties = asObject(schema.properties) ?? {};
  const extra = asObject(schema.additionalProperties) ?? {};
  const out: Json = {};
  for (const name of stringList(schema.required)) {
    out[name] = build(properties[name] ?? extra, options, childPath(at, name), depth + 1);
  }
  const minProperties = numberOr(schema.minProperties) ?? 0;
  for (const [name, sub] of Object.entries(properties)) {
    if (Object.keys(out).length >= minProperties) break;
    if (!(name in out)) out[name] = build(sub, options, childPath(at, name), depth + 1);
  }
  return out;
}

function childPath(at: string, name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${at}.${name}` : `${at}[${JSON.stringify(name)}]`;
}

function futureTime(options: ExampleOptions): string {
  if (!options.now) return DEFAULT_FUTURE_TIME;
  return new Date(options.now.getTime() + 10 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const FORMAT_EXAMPLES: Record<string, (options: ExampleOptions) => string> = {
  'date-time': futureTime,
  date: (options) => futureTime(options).slice(0, 10),
  time: () => '00:00:00Z',
  email: () => 'probe@example.com',
  uri: () => 'https://example.com/',
  url: () => 'https://example.com/',
  hostname: () => 'example.com',
  ipv4: () => '127.0.0.1',
  ipv6: () => '::1',
  uuid: () => '00000000-0000-4000-8000-000000000000',
};

function buildString(schema: Json, options: ExampleOptions, at: string): string {
  const minLength = numberOr(schema.minLength) ?? 0;
  const maxLength = numberOr(schema.maxLength) ?? Number.POSITIVE_INFINITY;
  const format = typeof schema.format === 'string' ? FORMAT_EXAMPLES[schema.format] : undefined;
  if (format) return format(options);
  if (typeof schema.pattern === 'string') {
    const value = stringForPattern(schema.pattern, minLength, maxLength);
    if (value === undefined) throw new Error(`buildValidExample: cannot synthesize a string matching /${schema.pattern}/ at ${at}; pass an example`);
    return value;
  }
  return fitLength('runtime-gate-probe', minLength, maxLength);
}

function fitLength(seed: string, minLength: number, maxLength: number): string {
  const padded = seed.length >= minLength ? seed : seed + 'x'.repeat(minLength - seed.length);
  return padded.slice(0, Math.max(minLength, Math.min(padded.length, maxLength)));
}

function buildNumber(schema: Json, integer: boolean): number {
  const step = integer ? 1 : 0.5;
  let low = numberOr(schema.minimum);
  const exclusiveLow = numberOr(schema.exclusiveMinimum);
  if (exclusiveLow !== undefined) low = Math.max(low ?? Number.NEGATIVE_INFINITY, integer ? Math.floor(exclusiveLow) + 1 : exclusiveLow + step);
  if (schema.exclusiveMinimum === true && low !== undefined) low += step; // OpenAPI 3.0 boolean form
  let high = numberOr(schema.maximum);
  const exclusiveHigh = numberOr(schema.exclusiveMaximum);
  if (exclusiveHigh !== undefined) high = Math.min(high ?? Number.POSITIVE_INFINITY, integer ? Math.ceil(exclusiveHigh) - 1 : exclusiveHigh - step);
  let value = low ?? (high !== undefined && high < 0 ? high : 0);
  if (integer) value = Math.ceil(value);
  const multipleOf = numberOr(schema.multipleOf);
  if (multipleOf !== undefined && multipleOf > 0) value = Math.ceil(value / multipleOf) * multipleOf;
  return value;
}

function patternRegExp(pattern: string): RegExp | undefined {
  // ajv compiles patterns with the `u` flag.
  try {
    return new RegExp(pattern, 'u');
  } catch {
    try {
      return new RegExp(pattern);
    } catch {
      return undefined;
    }
  }
}

/** The shortest string the pattern generator finds that matches and fits the length bounds. */
function stringForPattern(pattern: string, minLength: number, maxLength: number): string | undefined {
  const regex = patternRegExp(pattern);
  if (!regex) return undefined;
  for (let extra = 0; extra <= minLength + 1; extra++) {
    const candidate = generateFromPattern(pattern, extra);
    if (candidate === undefined) return undefined;
    if (candidate.length > maxLength) return undefined;
    if (candidate.length >= minLength && regex.test(candidate)) return candidate;
  }
  return undefined;
}

class UnsupportedPattern extends Error {}

/**
 * A string for a simple regular expression (anchors, literals, escapes, classes, groups,
 * alternation and quantifiers): the first alternative, the first character of each class,
 * each quantified atom repeated `min + extra` times (capped at its max). Lookarounds and
 * backreferences are unsupported (undefined).
 */
function generateFromPattern(pattern: string, extra: number): string | undefined {
  let i = 0;
  const alternation = (): string => {
    const first = sequence();
    while (pattern[i] === '|') {
      i++;
      sequence();
    }
    return first;
  };
  const sequence = (): string => {
    let out = '';
    while (i < pattern.length && pattern[i] !== '|' && pattern[i] !== ')') {
      const atom = parseAtom();
      const [min, max] = parseQuantifier();
      out += atom.repeat(Math.min(max, min + extra));
    }
    return out;
  };
  const parseAtom = (): string => {
    const c = pattern[i]!;
    i++;
    if (c === '^' || c === '$') return '';
    if (c === '.') return 'a';
    if (c === '\\') return parseEscape(false);
    if (c === '[') return parseClass();
    if (c === '(') {
      if (pattern[i] === '?') {
        if (pattern[i + 1] === ':') i += 2;
        else if (pattern[i + 1] === '<' && pattern[i + 2] !== '=' && pattern[i + 2] !== '!') i = pattern.indexOf('>', i) + 1;
        else throw new UnsupportedPattern('lookaround');
      }
      const inner = alternation();
      if (pattern[i] !== ')') throw new UnsupportedPattern('unbalanced group');
      i++;
      return inner;
    }
    return c;
  };
  const parseEscape = (inClass: boolean): string => {
    const c = pattern[i]!;
    i++;
    switch (c) {
      case 'd':
        return '0';
      case 'w':
      case 'D':
      case 'S':
        return 'a';
      case 's':
        return ' ';
      case 'W':
        return '-';
      case 'b':
      case 'B':
        if (inClass) return '\b';
        return '';
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'x': {
        const hex = pattern.slice(i, i + 2);
        i += 2;
        return String.fromCharCode(Number.parseInt(hex, 16));
      }
      case 'u': {
        if (pattern[i] === '{') {
          const end = pattern.indexOf('}', i);
          const code = Number.parseInt(pattern.slice(i + 1, end), 16);
          i = end + 1;
          return String.fromCodePoint(code);
        }
        const hex = pattern.slice(i, i + 4);
        i += 4;
        return String.fromCharCode(Number.parseInt(hex, 16));
      }
      default:
        if (/[1-9]/.test(c)) throw new UnsupportedPattern('backreference');
        return c;
    }
  };
  const parseClass = (): string => {
    const negated = pattern[i] === '^';
    if (negated) i++;
    const members: Array<[string, string]> = [];
    while (i < pattern.length && pattern[i] !== ']') {
      let low = pattern[i]!;
      i++;
      if (low === '\\') low = parseEscape(true);
      let high = low;
      if (pattern[i] === '-' && pattern[i + 1] !== ']' && i + 1 < pattern.length) {
        i++;
        high = pattern[i]!;
        i++;
        if (high === '\\') high = parseEscape(true);
      }
      members.push([low, high]);
    }
    if (pattern[i] !== ']') throw new UnsupportedPattern('unterminated class');
    i++;
    if (!negated) {
      if (members.length === 0) throw new UnsupportedPattern('empty class');
      return members[0]![0];
    }
    const inClass = (ch: string) => members.some(([lo, hi]) => ch >= lo && ch <= hi);
    const pick = [...'a0_xZ-.!~ '].find((ch) => !inClass(ch));
    if (pick === undefined) throw new UnsupportedPattern('negated class');
    return pick;
  };
  const parseQuantifier = (): [number, number] => {
    let range: [number, number] = [1, 1];
    const c = pattern[i];
    if (c === '*') range = [0, Number.POSITIVE_INFINITY];
    else if (c === '+') range = [1, Number.POSITIVE_INFINITY];
    else if (c === '?') range = [0, 1];
    else if (c === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!match) return range;
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : match[3] ? Number(match[3]) : Number.POSITIVE_INFINITY;
      i += match[0].length;
      if (pattern[i] === '?') i++;
      return [min, max];
    } else return range;
    i++;
    if (pattern[i] === '?') i++; // lazy
    return range;
  };
  try {
    const out = alternation();
    return i === pattern.length ? out : undefined;
  } catch (error) {
    if (error instanceof UnsupportedPattern) return undefined;
    throw error;
  }
}

// ----------------------------------------------------------------------------- violations

const WRONG_TYPE_CANDIDATES: Array<[string, unknown]> = [
  ['string', 'wrong-type'],
  ['integer', 12345],
  ['boolean', true],
  ['array', []],
  ['object', {}],
  ['null', null],
];

const BAD_FORMATS = new Set(['date-time', 'date', 'time', 'email', 'uri', 'url', 'hostname', 'ipv4', 'ipv6', 'uuid']);

function propertyViolations(name: string, rawProperty: unknown, current: unknown, options: ExampleOptions): Violation[] {
  const schema = mergeAllOf(rawProperty);
  const types = typesOf(schema);
  const out: Violation[] = [];
  if (!types) return out;
  const valid = current !== undefined ? current : tryBuild(schema, options);

  // string ↔ number first, then whatever JSON type the property does not accept.
  const wrong = (types.has('string') ? WRONG_TYPE_CANDIDATES.slice(1) : WRONG_TYPE_CANDIDATES).find(([type]) => !accepts(types, type));
  if (wrong) out.push({ kind: 'wrong-type', description: `${name} sent as ${wrong[0]} (schema: ${[...types].join(' | ')})`, value: wrong[1] });

  const values = 'const' in schema ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : undefined;
  if (values && types.has('string') && !values.includes(NOT_IN_ENUM)) {
    out.push({ kind: 'not-in-enum', description: `${name} = "${NOT_IN_ENUM}", not one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, value: NOT_IN_ENUM });
  }
  if (types.has('string') && typeof schema.pattern === 'string') {
    const bad = patternViolation(schema.pattern, numberOr(schema.minLength) ?? 0, numberOr(schema.maxLength) ?? Number.POSITIVE_INFINITY);
    if (bad !== undefined) out.push({ kind: 'pattern', description: `${name} = ${JSON.stringify(bad)}, does not match /${schema.pattern}/`, value: bad });
  }
  if (types.has('string') && typeof schema.format === 'string' && BAD_FORMATS.has(schema.format)) {
    out.push({ kind: 'bad-format', description: `${name} = "not-a-${schema.format}", not format ${schema.format}`, value: `not-a-${schema.format}` });
  }
  if (types.has('integer') || types.has('number')) {
    const minimum = numberOr(schema.minimum);
    const exclusiveMinimum = numberOr(schema.exclusiveMinimum);
    const maximum = numberOr(schema.maximum);
    const exclusiveMaximum = numberOr(schema.exclusiveMaximum);
    if (minimum !== undefined) out.push({ kind: 'below-minimum', description: `${name} = ${minimum - 1}, below minimum ${minimum}`, value: minimum - 1 });
    else if (exclusiveMinimum !== undefined) out.push({ kind: 'below-minimum', description: `${name} = ${exclusiveMinimum}, not above exclusiveMinimum ${exclusiveMinimum}`, value: exclusiveMinimum });
    if (maximum !== undefined) out.push({ kind: 'above-maximum', description: `${name} = ${maximum + 1}, above maximum ${maximum}`, value: maximum + 1 });
    else if (exclusiveMaximum !== undefined) out.push({ kind: 'above-maximum', description: `${name} = ${exclusiveMaximum}, not below exclusiveMaximum ${exclusiveMaximum}`, value: exclusiveMaximum });
  }
  if (types.has('string')) {
    const text = typeof valid === 'string' ? valid : 'runtime-gate-probe';
    const minLength = numberOr(schema.minLength);
    const maxLength = numberOr(schema.maxLength);
    if (minLength !== undefined && minLength >= 1) {
      const short = text.slice(0, minLength - 1);
      out.push({ kind: 'too-short', description: `${name} of length ${short.length}, below minLength ${minLength}`, value: short });
    }
    // Above ~half the body limit a "too long" string is really the oversize case.
    if (maxLength !== undefined && maxLength < 512 * 1024) {
      const long = (text + 'x'.repeat(maxLength + 1)).slice(0, maxLength + 1);
      out.push({ kind: 'too-long', description: `${name} of length ${long.length}, above maxLength ${maxLength}`, value: long });
    }
  }
  if (types.has('array')) {
    const items = Array.isArray(valid) ? valid : [];
    const item = items.length > 0 ? items[0] : tryBuild(asObject(schema.items) ?? {}, options);
    const itemSchema = mergeAllOf(schema.items);
    const itemValues = 'const' in itemSchema ? [itemSchema.const] : Array.isArray(itemSchema.enum) ? itemSchema.enum : undefined;
    if (itemValues && typesOf(itemSchema)?.has('string') && !itemValues.includes(NOT_IN_ENUM)) {
      out.push({ kind: 'not-in-enum', description: `${name}[0] = "${NOT_IN_ENUM}", not one of ${itemValues.map((v) => JSON.stringify(v)).join(', ')}`, value: [NOT_IN_ENUM] });
    }
    const minItems = numberOr(schema.minItems);
    const maxItems = numberOr(schema.maxItems);
    if (minItems !== undefined && minItems >= 1) {
      out.push({ kind: 'too-few-items', description: `${name} with ${minItems - 1} items, below minItems ${minItems}`, value: items.slice(0, minItems - 1) });
    }
    if (item !== undefined && maxItems !== undefined && maxItems < 10_000) {
      out.push({ kind: 'too-many-items', description: `${name} with ${maxItems + 1} items, above maxItems ${maxItems}`, value: Array.from({ length: maxItems + 1 }, () => item) });
    }
    if (item !== undefined && schema.uniqueItems === true) {
      out.push({ kind: 'duplicate-items', description: `${name} with a repeated item (uniqueItems)`, value: [item, item] });
    }
  }
  return out;
}

function tryBuild(schema: Json, options: ExampleOptions): unknown {
  try {
    return build(schema, options, '$', 0);
  } catch {
    return undefined;
  }
}

/** A string of admissible length that the pattern rejects (so only the pattern is violated). */
function patternViolation(pattern: string, minLength: number, maxLength: number): string | undefined {
  const regex = patternRegExp(pattern);
  if (!regex) return undefined;
  for (const seed of ['!', 'NOT VALID', ' ', '0', 'a', 'A', '-', '']) {
    const candidate = seed.length >= minLength ? seed : seed.padEnd(minLength, seed || '!');
    if (candidate.length <= maxLength && !regex.test(candidate)) return candidate;
  }
  return undefined;
}

function oversizeBody(schema: Json, base: Json | undefined, example: unknown, size: number): [string, string] {
  const huge = 'a'.repeat(size);
  const what = `${size} byte string, body above the server's body limit`;
  if (!base) return [`body is a ${what}`, JSON.stringify(huge)];
  const properties = Object.entries(asObject(schema.properties) ?? {}).map(([name, raw]) => [name, mergeAllOf(raw)] as const);
  const isString = (sub: Json) => typesOf(sub)?.has('string') === true && !('const' in sub) && !Array.isArray(sub.enum);
  // Prefer a field where only the size is wrong: an unconstrained string, then an open object.
  for (const [name, sub] of properties) {
    if (isString(sub) && sub.pattern === undefined && sub.maxLength === undefined && sub.format === undefined) {
      return [`${name} is a ${what}`, JSON.stringify({ ...base, [name]: huge })];
    }
  }
  for (const [name, sub] of properties) {
    if (typesOf(sub)?.has('object') && sub.additionalProperties !== false) {
      const inner = asObject(base[name]) ?? {};
      return [`${name}.padding is a ${what}`, JSON.stringify({ ...base, [name]: { ...inner, padding: huge } })];
    }
  }
  for (const [name, sub] of properties) {
    if (isString(sub)) return [`${name} is a ${what}`, JSON.stringify({ ...base, [name]: huge })];
  }
  return [`padding is a ${what}`, JSON.stringify({ ...(asObject(example) ?? {}), padding: huge })];
}
