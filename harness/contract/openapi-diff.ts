/**
 * Breaking-change diff between two OpenAPI documents (3.0 or 3.1; the contract lane diffs the
 * target's served `openapi.json` against the local contracts/runtime.openapi.yaml, and
 * `runtime-gate contracts diff OLD NEW` diffs any two documents).
 *
 * "old" is the contract clients rely on, "new" is what the target serves. Only changes that
 * break a client written against "old" are reported; additions (paths, operations, optional
 * request fields, response fields) and loosened request constraints are not.
 *
 * Operations are matched by their full path: the `servers` base path (the path of the first
 * server URL, absolute or relative, with server variables at their defaults; operation-level
 * `servers` over path-level over the document's; Swagger 2.0 `basePath`) followed by the path
 * template, so `servers: [{url: /internal/v1}]` + `/runs` is the same operation as `/internal/v1/runs`
 * under `servers: [{url: http://host}]`. Renamed path parameters (`{id}` → `{run_id}`) are the
 * same URL for clients.
 *
 * Rules, by direction:
 * - request (what clients send): a new or newly required body field or parameter, a request
 *   body that became required, a field type that no longer accepts what it used to, a field
 *   dropped from a strict (`additionalProperties: false`) object, enum/const values removed, and
 *   tightened constraints on body fields and parameters: `maxLength`/`maxItems`/`maximum`/
 *   `exclusiveMaximum` added or lowered, `minLength`/`minItems`/`minimum`/`exclusiveMinimum` added
 *   or raised, `pattern` added or changed.
 * - security: an operation that needed none (or allowed anonymous access with `{}`) now requires
 *   some, or a way of authenticating that used to suffice no longer does (a new required scheme,
 *   a scheme whose definition changed, or more OAuth scopes). A scheme renamed in
 *   `components.securitySchemes` with the same definition is the same scheme.
 * - response (what clients read): a removed status, a removed field or one no longer
 *   required, any change of a field's type set (integer → number included), enum/const values
 *   added.
 *
 * Schemas are followed through `$ref` (internal pointers, resolved lazily, so bundled
 * documents work too), `properties`, `items`, `allOf` (merged), and `oneOf`/`anyOf` (paired by
 * position). Recursive schemas are cut at the first repeated (old, new) pair.
 */
import { resolve as resolvePath } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPI } from 'openapi-types';
import { ContractInputError, readContractDocument } from './contract-document.ts';

/** Every kind {@link diffOpenApi} reports; each one breaks some client of the old contract. */
export const BREAKING_CHANGE_KINDS = [
  'removed_path',
  'removed_operation',
  'removed_response_status',
  'new_required_request_field',
  'removed_request_field',
  'retyped_request_field',
  'narrowed_request_enum',
  'tightened_request_constraint',
  'added_security',
  'new_required_security',
  'removed_response_field',
  'retyped_response_field',
  'widened_response_enum',
] as const;

export type BreakingChangeKind = (typeof BREAKING_CHANGE_KINDS)[number];

export type OpenApiMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
const METHODS: readonly OpenApiMethod[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export interface BreakingChange {
  kind: BreakingChangeKind;
  /**
   * Full path of the old operation: its `servers` base path followed by the path template as
   * written in the old document, e.g. `/internal/v1/runs/{run_id}` (the template itself when the
   * base path is `/`, as in contracts/runtime.openapi.yaml).
   */
  path: string;
  /** Lowercase, as in the document's path item; absent for `removed_path`. */
  method?: OpenApiMethod;
  /** Response status key as written (`200`, `4XX`, `default`); only on response changes. */
  status?: string;
  /** The old operation's operationId, when it has one. */
  operationId?: string;
  /**
   * Where, JSONPath-like: `POST /internal/v1/runs/{run_id}/events 200 $.event.seq`,
   * `POST /internal/v1/sync/token request $.scopes[*]`, `GET /internal/v1/runs/{run_id} query.view`,
   * `GET /internal/v1/runs security`.
   */
  location: string;
  /** Where and what, e.g. `GET /internal/v1/runs/{run_id} 200: $.run.latest_seq changed type integer → string`. */
  message: string;
}

/** Any JSON-ish OpenAPI document: a parsed YAML/JSON object or an `openapi-types` document. */
export type OpenApiInput = OpenAPI.Document | Record<string, unknown>;

/**
 * A diff input that cannot be used: unreadable, not YAML/JSON, not an OpenAPI document, or a
 * `$ref` that does not resolve. The message is one line naming the file.
 */
export class OpenApiInputError extends ContractInputError {
  override readonly name = 'OpenApiInputError';
}

const firstLine = (error: unknown): string => ((error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '').trim();

/**
 * Reads, parses and dereferences one OpenAPI document (YAML or JSON; local external refs are
 * followed, remote `http(s)` refs are not fetched). Every failure is an {@link OpenApiInputError}.
 */
export async function loadOpenApiFile(file: string): Promise<OpenAPI.Document> {
  const { data } = await readContractDocument(file, file, (reason) => new OpenApiInputError(file, reason));
  const doc = asObject(data);
  if (!doc || (typeof doc.openapi !== 'string' && typeof doc.swagger !== 'string')) {
    throw new OpenApiInputError(file, 'not an OpenAPI document (no `openapi` or `swagger` version field)');
  }
  if (doc.paths !== undefined && !asObject(doc.paths)) throw new OpenApiInputError(file, '`paths` is not an object');
  try {
    // The path (not a file URL) is the base for relative refs; remote refs are refused, not fetched.
    return (await SwaggerParser.dereference(resolvePath(file), doc as unknown as OpenAPI.Document, { resolve: { http: false } })) as OpenAPI.Document;
  } catch (error) {
    throw new OpenApiInputError(file, `cannot resolve its $refs: ${firstLine(error)}`);
  }
}

/** Reads and dereferences both files (YAML or JSON, local external refs allowed) and diffs them. */
export async function diffOpenApiFiles(oldPath: string, newPath: string): Promise<BreakingChange[]> {
  const [oldDoc, newDoc] = await Promise.all([loadOpenApiFile(oldPath), loadOpenApiFile(newPath)]);
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
  const oldOps = operationsOf(ctx.oldRoot);
  const newOps = operationsOf(ctx.newRoot);
  // Full path shape → (method → operation) of the new document; the first one written wins.
  const newByShape = new Map<string, Map<OpenApiMethod | undefined, IndexedOperation>>();
  for (const entry of newOps) {
    const shape = pathShape(entry.fullPath);
    const methods = newByShape.get(shape) ?? new Map<OpenApiMethod | undefined, IndexedOperation>();
    if (!methods.has(entry.method)) methods.set(entry.method, entry);
    newByShape.set(shape, methods);
  }
  const removedPaths = new Set<string>();
  for (const entry of oldOps) {
    const { fullPath, method, pathItem } = entry;
    const matches = newByShape.get(pathShape(fullPath));
    if (!matches) {
      if (removedPaths.has(fullPath)) continue;
      removedPaths.add(fullPath);
      const verbs = oldOps.filter((e) => e.fullPath === fullPath && e.method).map((e) => e.method!.toUpperCase());
      emit(ctx, { kind: 'removed_path', path: fullPath, location: fullPath, message: `${fullPath}: path removed${verbs.length > 0 ? ` (operations ${verbs.join(', ')})` : ''}` });
      continue;
    }
    if (!method) continue;
    const oldOp = entry.operation!;
    const where = `${method.toUpperCase()} ${fullPath}`;
    const operationId = typeof oldOp.operationId === 'string' ? oldOp.operationId : undefined;
    const site: OperationSite = { path: fullPath, method, ...(operationId ? { operationId } : {}) };
    const next = matches.get(method);
    if (!next) {
      emit(ctx, { kind: 'removed_operation', ...site, location: where, message: `${where}: operation removed` });
      continue;
    }
    const newOp = next.operation!;
    compareSecurity(ctx, site, where, oldOp, newOp);
    compareParameters(ctx, site, where, [pathItem, oldOp], [next.pathItem, newOp]);
    compareRequestBody(ctx, site, where, oldOp.requestBody, newOp.requestBody);
    compareResponses(ctx, site, where, oldOp.responses, newOp.responses);
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

interface IndexedOperation {
  /** Base path + template, e.g. `/internal/v1/runs/{run_id}`. */
  fullPath: string;
  pathItem: Json;
  /** Undefined for a path item that declares no operation (it still names a path). */
  method?: OpenApiMethod;
  operation?: Json;
}

/** Every operation with its full path, in document order. */
function operationsOf(root: Json): IndexedOperation[] {
  const out: IndexedOperation[] = [];
  const rootBase = basePathOf(root, root);
  for (const [template, rawItem] of Object.entries(asObject(root.paths) ?? {})) {
    const pathItem = resolve(root, rawItem) ?? {};
    const itemBase = basePathOf(root, pathItem) ?? rootBase ?? '';
    const methods = METHODS.filter((m) => asObject(pathItem[m]));
    if (methods.length === 0) out.push({ fullPath: joinPath(itemBase, template), pathItem });
    for (const method of methods) {
      const operation = asObject(pathItem[method])!;
      out.push({ fullPath: joinPath(basePathOf(root, operation) ?? itemBase, template), pathItem, method, operation });
    }
  }
  return out;
}

/**
 * The base path `node` declares: the path of its first `servers` URL (server variables at
 * their defaults; an absolute URL's path, or a relative URL taken as a path), or Swagger 2.0's
 * `basePath` on the document. `''` for `/`; undefined when `node` declares no servers.
 */
function basePathOf(root: Json, node: Json): string | undefined {
  if (node === root && typeof root.swagger === 'string') return typeof root.basePath === 'string' ? normalizeBase(root.basePath) : '';
  if (!Array.isArray(node.servers) || node.servers.length === 0) return undefined;
  const server = resolve(root, node.servers[0]);
  if (!server || typeof server.url !== 'string') return undefined;
  const variables = asObject(server.variables) ?? {};
  const url = server.url.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const value = asObject(variables[name])?.default;
    return typeof value === 'string' || typeof value === 'number' ? String(value) : whole;
  });
  // `scheme://authority/path` or `//authority/path`: the path after the authority.
  const absolute = /^(?:[a-z][a-z0-9+.-]*:)?\/\/[^/?#]*(.*)$/i.exec(url);
  return normalizeBase(absolute ? absolute[1]! : url);
}

function normalizeBase(path: string): string {
  const bare = path.replace(/[?#].*$/, '').replace(/^\.\//, '');
  const trimmed = bare.replace(/\/+$/, '');
  return trimmed === '' || trimmed === '.' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function joinPath(base: string, template: string): string {
  return base === '' ? template : `${base}${template.startsWith('/') ? '' : '/'}${template}`;
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

// -------------------------------------------------------------------------------- security

/** One way of authenticating: every scheme in it (by wire identity) with the scopes required. */
interface SecurityAlternative {
  schemes: Map<string, Set<string>>;
  /** The scheme names as written, for messages: `internalBearer`, `apiKey + oauth(read:pets)`. */
  label: string;
}

function securitySchemesOf(root: Json): Json {
  return asObject(asObject(root.components)?.securitySchemes) ?? asObject(root.securityDefinitions) ?? {};
}

/**
 * A scheme's definition as a client meets it, descriptions left out: `http bearer JWT`,
 * `apiKey header x-api-key`, `oauth2 [flows and URLs]`; undefined when the document does not define it.
 */
function schemeDefinition(root: Json, name: string): string | undefined {
  const scheme = resolve(root, securitySchemesOf(root)[name]);
  if (!scheme || typeof scheme.type !== 'string') return undefined;
  switch (scheme.type) {
    case 'http':
      return `http ${String(scheme.scheme).toLowerCase()}${typeof scheme.bearerFormat === 'string' ? ` ${scheme.bearerFormat}` : ''}`;
    case 'basic': // Swagger 2.0
      return 'http basic';
    case 'apiKey':
      return `apiKey ${String(scheme.in)} ${scheme.in === 'header' ? String(scheme.name).toLowerCase() : String(scheme.name)}`;
    case 'openIdConnect':
      return `openIdConnect ${String(scheme.openIdConnectUrl)}`;
    case 'oauth2': {
      const flows = asObject(scheme.flows) ?? { [String(scheme.flow)]: { authorizationUrl: scheme.authorizationUrl, tokenUrl: scheme.tokenUrl } };
      const urls = Object.entries(flows).map(([flow, raw]) => [flow, asObject(raw)?.authorizationUrl, asObject(raw)?.tokenUrl]);
      return `oauth2 ${valueKey(urls)}`;
    }
    default:
      return String(scheme.type);
  }
}

/**
 * Identities of security schemes across the two documents: a scheme is its name and its
 * definition (a scheme whose definition changed is a different credential). A name the old
 * document does not define, whose definition is that of exactly one old scheme the new
 * document no longer defines, is that scheme renamed.
 */
function schemeIdentities(ctx: DiffContext): { old: (name: string) => string; new: (name: string) => string } {
  const oldNames = Object.keys(securitySchemesOf(ctx.oldRoot));
  const newSchemes = securitySchemesOf(ctx.newRoot);
  const id = (name: string, definition: string | undefined) => `${name}\u0000${definition ?? 'undefined'}`;
  return {
    old: (name) => id(name, schemeDefinition(ctx.oldRoot, name)),
    new: (name) => {
      const definition = schemeDefinition(ctx.newRoot, name);
      if (oldNames.includes(name) || definition === undefined) return id(name, definition);
      const renamed = oldNames.filter((o) => !(o in newSchemes) && schemeDefinition(ctx.oldRoot, o) === definition);
      return id(renamed.length === 1 ? renamed[0]! : name, definition);
    },
  };
}

/** The operation's security (its own, else the document's) as alternatives; `[]` alone means none required. */
function securityOf(root: Json, operation: Json, identity: (name: string) => string): SecurityAlternative[] {
  const raw = Array.isArray(operation.security) ? operation.security : Array.isArray(root.security) ? root.security : [];
  return raw.map((requirement) => {
    const schemes = new Map<string, Set<string>>();
    const names: string[] = [];
    for (const [name, scopes] of Object.entries(asObject(requirement) ?? {})) {
      const list = Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : [];
      const key = identity(name);
      schemes.set(key, new Set([...(schemes.get(key) ?? []), ...list]));
      names.push(list.length > 0 ? `${name}(${list.join(', ')})` : name);
    }
    return { schemes, label: names.length > 0 ? names.join(' + ') : 'anonymous' };
  });
}

/** A client using `held` can use `required` too: every scheme of it, with no scope it lacks. */
function satisfies(held: SecurityAlternative, required: SecurityAlternative): boolean {
  for (const [scheme, scopes] of required.schemes) {
    const have = held.schemes.get(scheme);
    if (!have || [...scopes].some((s) => !have.has(s))) return false;
  }
  return true;
}

function compareSecurity(ctx: DiffContext, op: OperationSite, where: string, oldOp: Json, newOp: Json): void {
  const identities = schemeIdentities(ctx);
  const before = securityOf(ctx.oldRoot, oldOp, identities.old);
  const after = securityOf(ctx.newRoot, newOp, identities.new);
  const anonymous = (alternatives: SecurityAlternative[]) => alternatives.length === 0 || alternatives.some((a) => a.schemes.size === 0);
  if (anonymous(after)) return;
  const location = `${where} security`;
  const options = after.map((a) => a.label).join(' or ');
  if (anonymous(before)) {
    emit(ctx, { kind: 'added_security', ...op, location, message: `${where}: now requires ${options} (it required no authentication)` });
    return;
  }
  for (const held of before) {
    if (after.some((required) => satisfies(held, required))) continue;
    emit(ctx, { kind: 'new_required_security', ...op, location, message: `${where}: ${held.label} no longer suffices (now requires ${options})` });
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
  /** Value constraints, the strictest over the `allOf` branches; undefined means none. */
  limits: Partial<Record<CountKeyword, number>>;
  lower?: Bound;
  upper?: Bound;
  patterns: string[];
}

/** A numeric bound: `minimum`/`maximum` (inclusive) or their exclusive variants. */
interface Bound {
  value: number;
  exclusive: boolean;
}

/** Length and size keywords; a `max*` tightens when lowered (or added), a `min*` when raised. */
const COUNT_KEYWORDS = ['maxLength', 'minLength', 'maxItems', 'minItems'] as const;
type CountKeyword = (typeof COUNT_KEYWORDS)[number];

/** The stricter of two bounds: for a lower bound the larger one (`> v` over `≥ v`); for an upper one the smaller. */
function stricter(kind: 'lower' | 'upper', a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a || !b) return a ?? b;
  if (a.value !== b.value) return (kind === 'lower' ? a.value > b.value : a.value < b.value) ? a : b;
  return a.exclusive ? a : b;
}

/** Whether `bound` rejects a value that `than` accepts. */
function strictlyTighter(kind: 'lower' | 'upper', bound: Bound, than: Bound): boolean {
  if (bound.value !== than.value) return kind === 'lower' ? bound.value > than.value : bound.value < than.value;
  return bound.exclusive && !than.exclusive;
}

/** The bound one schema node sets: OpenAPI 3.1 numeric `exclusive*`, or 3.0's boolean flag on `minimum`/`maximum`. */
function boundOf(node: Json, kind: 'lower' | 'upper'): Bound | undefined {
  const inclusive = node[kind === 'lower' ? 'minimum' : 'maximum'];
  const exclusive = node[kind === 'lower' ? 'exclusiveMinimum' : 'exclusiveMaximum'];
  const plain = typeof inclusive === 'number' ? { value: inclusive, exclusive: exclusive === true } : undefined;
  return stricter(kind, plain, typeof exclusive === 'number' ? { value: exclusive, exclusive: true } : undefined);
}

function formatBound(kind: 'lower' | 'upper', bound: Bound): string {
  return `${kind === 'lower' ? (bound.exclusive ? '>' : '≥') : bound.exclusive ? '<' : '≤'} ${bound.value}`;
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
  const out: SchemaView = { properties: new Map(), required: new Set(), closed: false, items: [], limits: {}, patterns: [] };
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
    for (const keyword of COUNT_KEYWORDS) {
      const value = node[keyword];
      if (typeof value !== 'number') continue;
      const current = out.limits[keyword];
      out.limits[keyword] = current === undefined ? value : keyword.startsWith('max') ? Math.min(current, value) : Math.max(current, value);
    }
    out.lower = stricter('lower', out.lower, boundOf(node, 'lower'));
    out.upper = stricter('upper', out.upper, boundOf(node, 'upper'));
    if (typeof node.pattern === 'string' && !out.patterns.includes(node.pattern)) out.patterns.push(node.pattern);
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
    if (direction === 'request') compareConstraints(a, b, at, report);
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

/** Request constraints that reject a value the old contract accepted (request direction only). */
function compareConstraints(a: SchemaView, b: SchemaView, at: string, report: (kind: BreakingChangeKind, path: string, what: string) => void): void {
  for (const keyword of COUNT_KEYWORDS) {
    const before = a.limits[keyword];
    const after = b.limits[keyword];
    if (after === undefined) continue;
    if (keyword.startsWith('max') ? before === undefined || after < before : after > (before ?? 0)) {
      report('tightened_request_constraint', at, before === undefined ? `${keyword} ${after} added` : `${keyword} ${keyword.startsWith('max') ? 'lowered' : 'raised'} ${before} → ${after}`);
    }
  }
  for (const kind of ['lower', 'upper'] as const) {
    const before = a[kind];
    const after = b[kind];
    if (!after || (before && !strictlyTighter(kind, after, before))) continue;
    const keyword = `${after.exclusive ? 'exclusive' : ''}${kind === 'lower' ? (after.exclusive ? 'Minimum' : 'minimum') : after.exclusive ? 'Maximum' : 'maximum'}`;
    report('tightened_request_constraint', at, before ? `${keyword} ${kind === 'lower' ? 'raised' : 'lowered'} ${formatBound(kind, before)} → ${formatBound(kind, after)}` : `${keyword} ${formatBound(kind, after)} added`);
  }
  const added = b.patterns.filter((p) => !a.patterns.includes(p));
  if (added.length > 0) {
    const now = added.map((p) => `/${p}/`).join(', ');
    report('tightened_request_constraint', at, a.patterns.length === 0 ? `pattern ${now} added` : `pattern changed ${a.patterns.map((p) => `/${p}/`).join(', ')} → ${now}`);
  }
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
