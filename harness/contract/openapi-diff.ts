/**
 * Breaking-change diff between two OpenAPI 3.1 documents (SPEC §4 "contract" lane: the
 * target's served `openapi.json` must have no breaking change against the local contract).
 *
 * "old" is the contract clients rely on (the local contracts/runtime.openapi.yaml), "new" is
 * what the target serves. Only changes that break a client written against "old" are
 * reported; additions (paths, operations, optional request fields, response fields) are not.
 *
 * Rules, by direction:
 * - request (what clients send): a new or newly required body field or parameter, a request
 *   body that became required, a field type that no longer accepts what it used to, a field
 *   dropped from a strict (`additionalProperties: false`) object, enum/const values removed.
 * - response (what clients read): a removed status, a removed field or one no longer
 *   required, any change of a field's type set (integer → number included), enum/const values
 *   added.
 *
 * Schemas are followed through `$ref` (internal pointers, resolved lazily, so bundled
 * documents work too), `properties`, `items`, `allOf` (merged), and `oneOf`/`anyOf` (paired by
 * position). Recursive schemas are cut at the first repeated (old, new) pair.
 *
 * @see /work/shared/SPEC.md §4 (contract lane)
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPI } from 'openapi-types';

/** Every kind {@link diffOpenApi} reports; each one breaks some client of the old contract. */
export const BREAKING_CHANGE_KINDS = [
  'removed_path',
  'removed_operation',
  'removed_response_status',
  'new_required_request_field',
  'removed_request_field',
  'retyped_request_field',
  'narrowed_request_enum',
  'removed_response_field',
  'retyped_response_field',
  'widened_response_enum',
] as const;

export type BreakingChangeKind = (typeof BREAKING_CHANGE_KINDS)[number];

export type OpenApiMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
const METHODS: readonly OpenApiMethod[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export interface BreakingChange {
  kind: BreakingChangeKind;
  /** Path template as written in the old (local) contract, e.g. `/internal/v1/runs/{run_id}`. */
  path: string;
  /** Lowercase, as in the document's path item; absent for `removed_path`. */
  method?: OpenApiMethod;
  /** Response status key as written (`200`, `4XX`, `default`); only on response changes. */
  status?: string;
  /** The old operation's operationId, when it has one. */
  operationId?: string;
  /**
   * Where, JSONPath-like: `POST /internal/v1/runs/{run_id}/events 200 $.event.seq`,
   * `POST /internal/v1/sync/token request $.scopes[*]`, `GET /internal/v1/runs/{run_id} query.view`.
   */
  location: string;
  /** Where and what, e.g. `GET /internal/v1/runs/{run_id} 200: $.run.latest_seq changed type integer → string`. */
  message: string;
}

/** Any JSON-ish OpenAPI document: a parsed YAML/JSON object or an `openapi-types` document. */
export type OpenApiInput = OpenAPI.Document | Record<string, unknown>;

/** Dereferences both files (YAML or JSON, external refs allowed) and diffs them. */
export async function diffOpenApiFiles(oldPath: string, newPath: string): Promise<BreakingChange[]> {
  const [oldDoc, newDoc] = await Promise.all([SwaggerParser.dereference(oldPath), SwaggerParser.dereference(newPath)]);
  return diffOpenApi(oldDoc, newDoc);
}

/** Dereferences copies of both documents (the inputs are not mutated) and diffs them. */
export async function diffOpenApiDocuments(oldDoc: OpenApiInput, newDoc: OpenApiInput): Promise<BreakingChange[]> {
  const [oldDeref, newDeref] = await Promise.all([
    SwaggerParser.dereference(structuredClone(oldDoc) as OpenAPI.Document),
    SwaggerParser.dereference(structuredClone(newDoc) as OpenAPI.Document),
  ]);
  return diffOpenApi(oldDeref, newDeref);
}

/**
 * Breaking changes from `oldDoc` to `newDoc`, in old-document order. Pure and synchronous:
 * accepts dereferenced documents, and resolves internal `#/...` refs itself, so bundled ones
 * work as well. External refs are not followed (use {@link diffOpenApiDocuments}).
 */
export function diffOpenApi(oldDoc: OpenApiInput, newDoc: OpenApiInput): BreakingChange[] {
  const ctx: DiffContext = {
    oldRoot: oldDoc as Json,
    newRoot: newDoc as Json,
    changes: [],
    keys: new Set(),
  };
  const oldPaths = asObject(ctx.oldRoot.paths) ?? {};
  const newPaths = asObject(ctx.newRoot.paths) ?? {};
  const newByShape = new Map<string, string>();
  for (const template of Object.keys(newPaths)) {
    if (!newByShape.has(pathShape(template))) newByShape.set(pathShape(template), template);
  }

  for (const [template, rawOldItem] of Object.entries(oldPaths)) {
    const oldItem = resolve(ctx.oldRoot, rawOldItem) ?? {};
    // A renamed path parameter (`{id}` → `{run_id}`) is the same URL for clients.
    const newTemplate = template in newPaths ? template : newByShape.get(pathShape(template));
    const oldMethods = METHODS.filter((m) => asObject(oldItem[m]));
    if (newTemplate === undefined) {
      const verbs = oldMethods.map((m) => m.toUpperCase()).join(', ');
      emit(ctx, { kind: 'removed_path', path: template, location: template, message: `${template}: path removed${verbs ? ` (operations ${verbs})` : ''}` });
      continue;
    }
    const newItem = resolve(ctx.newRoot, newPaths[newTemplate]) ?? {};
    for (const method of oldMethods) {
      const oldOp = asObject(oldItem[method])!;
      const newOp = asObject(newItem[method]);
      const where = `${method.toUpperCase()} ${template}`;
      const operationId = typeof oldOp.operationId === 'string' ? oldOp.operationId : undefined;
      const site: OperationSite = { path: template, method, ...(operationId ? { operationId } : {}) };
      if (!newOp) {
        emit(ctx, { kind: 'removed_operation', ...site, location: where, message: `${where}: operation removed` });
        continue;
      }
      compareParameters(ctx, site, where, [oldItem, oldOp], [newItem, newOp]);
      compareRequestBody(ctx, site, where, oldOp.requestBody, newOp.requestBody);
      compareResponses(ctx, site, where, oldOp.responses, newOp.responses);
    }
  }
  return ctx.changes;
}

/** One line per change, for CLI output (`contracts diff OLD NEW`). */
export function formatBreakingChanges(changes: readonly BreakingChange[]): string {
  if (changes.length === 0) return 'no breaking changes';
  const width = Math.max(...changes.map((c) => c.kind.length));
  const lines = changes.map((c) => `  ${c.kind.padEnd(width)}  ${c.message}`);
  return [`${changes.length} breaking change${changes.length === 1 ? '' : 's'}:`, ...lines].join('\n');
}

// ------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

interface DiffContext {
  oldRoot: Json;
  newRoot: Json;
  changes: BreakingChange[];
  /** Dedupe: the same schema reached twice (e.g. two oneOf variants) reports once. */
  keys: Set<string>;
}

interface OperationSite {
  path: string;
  method: OpenApiMethod;
  operationId?: string;
}

type Direction = 'request' | 'response';

interface SchemaSite {
  op: OperationSite;
  direction: Direction;
  status?: string;
  /** Prefix of location and message: `GET /x 200`, `POST /x request`, `GET /x`. */
  where: string;
}

const MAX_DEPTH = 64;

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function emit(ctx: DiffContext, change: BreakingChange): void {
  const key = `${change.kind}\u0000${change.location}\u0000${change.message}`;
  if (ctx.keys.has(key)) return;
  ctx.keys.add(key);
  ctx.changes.push(change);
}

function pathShape(template: string): string {
  return template.replace(/\{[^}]*\}/g, '{}');
}

const ANNOTATIONS = new Set(['description', 'summary', 'title', 'example', 'examples', 'deprecated', '$comment']);

/** Follows internal `$ref`s; siblings other than annotations are overlaid on the target. */
function resolve(root: Json, node: unknown): Json | undefined {
  let current = asObject(node);
  for (let hops = 0; current && typeof current.$ref === 'string' && hops < 32; hops++) {
    const { $ref, ...siblings } = current;
    const target = asObject(pointer(root, $ref as string));
    if (!target) return current;
    current = Object.keys(siblings).some((k) => !ANNOTATIONS.has(k)) ? { ...target, ...siblings } : target;
  }
  return current;
}

function pointer(root: Json, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = Array.isArray(node) ? node[Number(key)] : asObject(node)?.[key];
    if (node === undefined) return undefined;
  }
  return node;
}

// ------------------------------------------------------------------------------ operations

function parameterMap(root: Json, sources: Json[]): Map<string, Json> {
  const params = new Map<string, Json>();
  for (const source of sources) {
    if (!Array.isArray(source.parameters)) continue;
    for (const raw of source.parameters) {
      const p = resolve(root, raw);
      if (!p || typeof p.name !== 'string' || typeof p.in !== 'string') continue;
      // Header names are case-insensitive; operation-level parameters override path-level ones.
      params.set(`${p.in}.${p.in === 'header' ? p.name.toLowerCase() : p.name}`, p);
    }
  }
  return params;
}

function compareParameters(ctx: DiffContext, op: OperationSite, where: string, oldSources: Json[], newSources: Json[]): void {
  const oldParams = parameterMap(ctx.oldRoot, oldSources);
  const newParams = parameterMap(ctx.newRoot, newSources);
  for (const [key, p] of newParams) {
    // Path parameters are implied by the (already matched) template; names may differ.
    if (p.in === 'path' || p.required !== true) continue;
    const old = oldParams.get(key);
    if (old?.required === true) continue;
    const what = old ? `${p.in} parameter ${String(p.name)} is now required (was optional)` : `new required ${p.in} parameter ${String(p.name)}`;
    emit(ctx, { kind: 'new_required_request_field', ...op, location: `${where} ${key}`, message: `${where}: ${what}` });
  }
  for (const [key, old] of oldParams) {
    const p = newParams.get(key);
    if (!p) continue;
    compareSchema(ctx, { op, direction: 'request', where }, old.schema, p.schema, key, [], 0);
  }
}

function jsonSchemaOf(root: Json, container: unknown): { found: boolean; schema?: unknown } {
  const content = asObject(resolve(root, container)?.content);
  if (!content) return { found: false };
  const type = Object.keys(content).find((t) => /^application\/(?:[\w.-]+\+)?json(?:\s*;|$)/i.test(t));
  if (type === undefined) return { found: false };
  return { found: true, schema: asObject(content[type])?.schema };
}

function compareRequestBody(ctx: DiffContext, op: OperationSite, where: string, rawOld: unknown, rawNew: unknown): void {
  const oldBody = resolve(ctx.oldRoot, rawOld);
  const newBody = resolve(ctx.newRoot, rawNew);
  const at = `${where} request`;
  if (newBody?.required === true && oldBody?.required !== true) {
    const what = oldBody ? 'request body is now required (was optional)' : 'new required request body';
    emit(ctx, { kind: 'new_required_request_field', ...op, location: `${at} $`, message: `${at}: ${what}` });
  }
  const oldJson = jsonSchemaOf(ctx.oldRoot, oldBody);
  const newJson = jsonSchemaOf(ctx.newRoot, newBody);
  if (oldJson.schema !== undefined && newJson.schema !== undefined) {
    compareSchema(ctx, { op, direction: 'request', where: at }, oldJson.schema, newJson.schema, '$', [], 0);
  }
}

function compareResponses(ctx: DiffContext, op: OperationSite, where: string, rawOld: unknown, rawNew: unknown): void {
  const oldResponses = asObject(rawOld) ?? {};
  const newResponses = asObject(rawNew) ?? {};
  for (const [status, rawResponse] of Object.entries(oldResponses)) {
    const at = `${where} ${status}`;
    if (!(status in newResponses)) {
      emit(ctx, { kind: 'removed_response_status', ...op, status, location: at, message: `${where}: response status ${status} removed` });
      continue;
    }
    const oldJson = jsonSchemaOf(ctx.oldRoot, rawResponse);
    const newJson = jsonSchemaOf(ctx.newRoot, newResponses[status]);
    if (oldJson.schema === undefined) continue;
    if (!newJson.found) {
      emit(ctx, { kind: 'removed_response_field', ...op, status, location: `${at} $`, message: `${at}: $ JSON body no longer documented` });
      continue;
    }
    compareSchema(ctx, { op, direction: 'response', status, where: at }, oldJson.schema, newJson.schema ?? {}, '$', [], 0);
  }
}

// --------------------------------------------------------------------------------- schemas

/** A schema with its `allOf` branches merged (properties as lists of raw sub-schemas). */
interface SchemaView {
  /** Allowed JSON types; undefined means any. */
  types?: Set<string>;
  /** Allowed values from enum/const; undefined means unrestricted. */
  values?: unknown[];
  properties: Map<string, unknown[]>;
  required: Set<string>;
  closed: boolean;
  items: unknown[];
  variants?: unknown[];
}

function typesOf(schema: Json): Set<string> | undefined {
  const raw = schema.type;
  const list = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((t): t is string => typeof t === 'string') : undefined;
  if (!list) return undefined;
  const types = new Set(list);
  if (schema.nullable === true) types.add('null'); // OpenAPI 3.0 documents
  return types;
}

function accepts(types: Set<string>, type: string): boolean {
  return types.has(type) || (type === 'integer' && types.has('number'));
}

function intersect(a: Set<string>, b: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const t of a) if (accepts(b, t)) out.add(t);
  for (const t of b) if (t === 'integer' && a.has('number')) out.add(t);
  return out;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function valueKey(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    const o = asObject(v);
    return o ? Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v;
  });
}

function valuesOf(schema: Json): unknown[] | undefined {
  const values = 'const' in schema ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : undefined;
  if (values && 'const' in schema && Array.isArray(schema.enum)) {
    const allowed = new Set(schema.enum.map(valueKey));
    return values.filter((v) => allowed.has(valueKey(v)));
  }
  return values;
}

function view(root: Json, schema: Json): SchemaView {
  const out: SchemaView = { properties: new Map(), required: new Set(), closed: false, items: [] };
  const seen = new Set<Json>();
  const visit = (node: Json): void => {
    if (seen.has(node)) return;
    seen.add(node);
    const types = typesOf(node);
    if (types) out.types = out.types ? intersect(out.types, types) : types;
    const values = valuesOf(node);
    if (values) {
      const keys = new Set(values.map(valueKey));
      out.values = out.values ? out.values.filter((v) => keys.has(valueKey(v))) : values;
    }
    for (const [name, sub] of Object.entries(asObject(node.properties) ?? {})) {
      out.properties.set(name, [...(out.properties.get(name) ?? []), sub]);
    }
    if (Array.isArray(node.required)) for (const name of node.required) if (typeof name === 'string') out.required.add(name);
    if (node.additionalProperties === false || node.unevaluatedProperties === false) out.closed = true;
    if (asObject(node.items)) out.items.push(node.items);
    const variants = Array.isArray(node.oneOf) ? node.oneOf : Array.isArray(node.anyOf) ? node.anyOf : undefined;
    if (variants && !out.variants) out.variants = variants;
    if (Array.isArray(node.allOf)) {
      for (const branch of node.allOf) {
        const resolved = resolve(root, branch);
        if (resolved) visit(resolved);
      }
    }
  };
  visit(schema);
  if (!out.types) {
    // Untyped schemas still constrain: infer so `{properties}` and `{type: object, properties}` compare equal.
    if (out.properties.size > 0 || out.required.size > 0) out.types = new Set(['object']);
    else if (out.items.length > 0) out.types = new Set(['array']);
    else if (out.values) out.types = new Set(out.values.map(jsonType));
  }
  return out;
}

function formatTypes(types: Set<string> | undefined): string {
  return types ? [...types].join(' | ') : 'any';
}

function formatValues(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function childPath(at: string, name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${at}.${name}` : `${at}[${JSON.stringify(name)}]`;
}

function merged(list: unknown[]): unknown {
  return list.length === 1 ? list[0] : { allOf: list };
}

function compareSchema(ctx: DiffContext, site: SchemaSite, rawOld: unknown, rawNew: unknown, at: string, stack: Array<[Json, Json]>, depth: number): void {
  const oldSchema = resolve(ctx.oldRoot, rawOld);
  const newSchema = resolve(ctx.newRoot, rawNew);
  // Boolean or missing schemas constrain nothing we compare.
  if (!oldSchema || !newSchema || depth > MAX_DEPTH) return;
  if (stack.some(([o, n]) => o === oldSchema && n === newSchema)) return;
  stack.push([oldSchema, newSchema]);

  const a = view(ctx.oldRoot, oldSchema);
  const b = view(ctx.newRoot, newSchema);
  const { op, direction, status } = site;
  const report = (kind: BreakingChangeKind, path: string, what: string): void => {
    emit(ctx, { kind, ...op, ...(status !== undefined ? { status } : {}), location: `${site.where} ${path}`, message: `${site.where}: ${path} ${what}` });
  };

  let retyped = false;
  if (direction === 'response') {
    // Clients parse what they were promised: any change of the type set breaks some of them.
    if (a.types && (!b.types || a.types.size !== b.types.size || [...a.types].some((t) => !b.types!.has(t)))) {
      report('retyped_response_field', at, `changed type ${formatTypes(a.types)} → ${formatTypes(b.types)}`);
      retyped = true;
    }
  } else if (b.types && (!a.types || [...a.types].some((t) => !accepts(b.types!, t)))) {
    report('retyped_request_field', at, `changed type ${formatTypes(a.types)} → ${formatTypes(b.types)}`);
    retyped = true;
  }

  if (!retyped) {
    if (direction === 'response' && a.values) {
      const known = new Set(a.values.map(valueKey));
      const added = b.values?.filter((v) => !known.has(valueKey(v)));
      if (!b.values) report('widened_response_enum', at, `is no longer restricted to ${formatValues(a.values)}`);
      else if (added && added.length > 0) report('widened_response_enum', at, `may now be ${formatValues(added)} (was one of ${formatValues(a.values)})`);
    }
    if (direction === 'request' && b.values) {
      const allowed = new Set(b.values.map(valueKey));
      const removed = a.values?.filter((v) => !allowed.has(valueKey(v)));
      if (!a.values) report('narrowed_request_enum', at, `is now restricted to ${formatValues(b.values)}`);
      else if (removed && removed.length > 0) report('narrowed_request_enum', at, `no longer accepts ${formatValues(removed)} (now one of ${formatValues(b.values)})`);
    }
  }

  const both = (type: string) => (!a.types || a.types.has(type)) && (!b.types || b.types.has(type));
  if (both('object')) compareObjects(ctx, site, a, b, at, stack, depth, report);
  if (both('array') && a.items.length > 0 && b.items.length > 0) {
    compareSchema(ctx, site, merged(a.items), merged(b.items), `${at}[*]`, stack, depth + 1);
  }
  if (a.variants && b.variants) {
    // Variants are paired by position; a reordered oneOf may report spurious changes.
    const shared = Math.min(a.variants.length, b.variants.length);
    for (let i = 0; i < shared; i++) compareSchema(ctx, site, a.variants[i], b.variants[i], at, stack, depth + 1);
    if (direction === 'response' && b.variants.length > a.variants.length) {
      report('retyped_response_field', at, `may now match ${b.variants.length} variants (was ${a.variants.length})`);
    }
    if (direction === 'request' && b.variants.length < a.variants.length) {
      report('retyped_request_field', at, `accepts ${b.variants.length} variants (was ${a.variants.length})`);
    }
  }
  stack.pop();
}

function compareObjects(
  ctx: DiffContext,
  site: SchemaSite,
  a: SchemaView,
  b: SchemaView,
  at: string,
  stack: Array<[Json, Json]>,
  depth: number,
  report: (kind: BreakingChangeKind, path: string, what: string) => void,
): void {
  if (site.direction === 'request') {
    for (const name of b.required) {
      if (a.required.has(name)) continue;
      report('new_required_request_field', childPath(at, name), a.properties.has(name) ? 'is now required (was optional)' : 'is a new required field');
    }
    for (const [name, oldList] of a.properties) {
      const newList = b.properties.get(name);
      if (newList) compareSchema(ctx, site, merged(oldList), merged(newList), childPath(at, name), stack, depth + 1);
      else if (b.closed) report('removed_request_field', childPath(at, name), 'is no longer accepted (additionalProperties: false)');
    }
    return;
  }
  for (const [name, oldList] of a.properties) {
    const path = childPath(at, name);
    const newList = b.properties.get(name);
    if (!newList) {
      report('removed_response_field', path, 'removed');
      continue;
    }
    if (a.required.has(name) && !b.required.has(name)) report('removed_response_field', path, 'is no longer required (clients may not receive it)');
    compareSchema(ctx, site, merged(oldList), merged(newList), path, stack, depth + 1);
  }
}
