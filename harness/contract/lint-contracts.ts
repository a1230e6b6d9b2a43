/**
 * Contract lint: any OpenAPI (2.0, 3.0, 3.1) or AsyncAPI document, and JSON Schemas, with a
 * maintained ruleset; with no files, this project's own contracts (`npm run lint`,
 * `runtime-gate contracts lint`, the contract lane's `contract.lint.local-contracts`).
 *
 * - OpenAPI and AsyncAPI documents go through Spectral (`@stoplight/spectral-core`) with the
 *   `oas` / `asyncapi` rulesets of `@stoplight/spectral-rulesets` (their recommended rules).
 *   Among others they report duplicate operationIds (`operation-operationId-unique`), examples
 *   that break their schemas (`oas3-valid-media-example`, `oas3-valid-schema-example`), path
 *   templates and path parameters that do not match (`path-params`), security schemes that are
 *   not defined (`oas3-operation-security-defined`, raised here from warning to error: such an
 *   operation cannot be called) and `$ref`s that do not resolve (`invalid-ref`).
 * - This project's structural validation runs as well: swagger-parser for OpenAPI,
 *   @asyncapi/parser for AsyncAPI, ajv for JSON Schemas. Both of the former stop at (or repeat)
 *   what Spectral already reports, so they run only on a document Spectral found no error in,
 *   as a second opinion that can only add findings.
 * - With `conventions` (always for the built-in contracts) this project's conventions, stated
 *   in contracts/runtime.openapi.yaml `info.description`, are Spectral rules too
 *   ({@link OPENAPI_CONVENTION_RULES}), and a few maintained rules that do not fit how the
 *   built-in contracts are used are off ({@link ASYNCAPI_CONVENTION_OVERRIDES}, each with why).
 *
 * Severities: an `error` fails the lint; a `warning` is reported and does not fail; Spectral's
 * `info` and `hint` results (advice such as "a newer AsyncAPI version exists") are dropped.
 *
 * `$ref`s are resolved from local files only, so a lint never reaches the network and gives the
 * same answer offline; a remote `http(s)` `$ref` is then an `invalid-ref` error unless
 * `remoteRefs` is set.
 */

import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve as resolvePath } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Parser as AsyncApiParser } from '@asyncapi/parser';
import { Document, type IRuleResult, type RuleDefinition, type RulesetDefinition, type RulesetFunction, Ruleset, Spectral } from '@stoplight/spectral-core';
import SpectralParsers from '@stoplight/spectral-parsers';
import { createHttpAndFileResolver, Resolver } from '@stoplight/spectral-ref-resolver';
import { asyncapi as asyncapiRuleset, oas as oasRuleset } from '@stoplight/spectral-rulesets';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ContractInputError, oneLine, readContractDocument } from './contract-document.ts';
import { contractPaths, loadContractMigrations } from '../../contracts/contract-files.ts';
import { loadParityPolicy } from '../parity/parity-policy.ts';
import { loadDbRolePolicy } from '../roles/db-role-policy.ts';

export type LintSeverity = 'error' | 'warning';

export interface LintFinding {
  /** The file the finding is in: the linted file, or a file one of its `$ref`s led to. */
  contract: string;
  /** 1-based line; 1 when the finding is about the file as a whole. */
  line: number;
  /** Dotted path in the document (`paths./pets/{id}.get.operationId`); `$` for the document itself. */
  path: string;
  message: string;
  /** The rule: a Spectral rule name, or `swagger-parser`, `asyncapi-parser`, `json-schema`, `contract-files`. */
  rule: string;
  severity: LintSeverity;
}

export interface LintOptions {
  /** Apply this project's conventions (always on for the built-in contracts). */
  conventions?: boolean;
  /** Fetch remote `http(s)` `$ref`s instead of reporting them (default: local files only). */
  remoteRefs?: boolean;
}

/** A file that cannot be linted at all: unreadable, not YAML/JSON, or not a kind of document this lints. One line, naming the file. */
export class LintInputError extends ContractInputError {
  override readonly name = 'LintInputError';
}

/** `FILE:LINE path message (rule)`; a warning's message starts with `warning: `. FILE is relative to `cwd` when inside it. */
export function formatLintFinding(finding: LintFinding, cwd: string = process.cwd()): string {
  const rel = relative(cwd, finding.contract);
  const file = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : finding.contract;
  return `${file}:${finding.line} ${finding.path} ${finding.severity === 'warning' ? 'warning: ' : ''}${finding.message} (${finding.rule})`;
}

export const isFailing = (finding: LintFinding): boolean => finding.severity === 'error';

/**
 * Lints the built-in contracts (or the ones `paths` replaces): the OpenAPI and AsyncAPI
 * documents with their conventions, the JSON Schemas, the DB role and parity policies, and the
 * migration file names. Returns the failing findings (errors), or every finding with
 * `includeWarnings`; a file that cannot be read is a finding here, not an exception.
 */
export async function lintContracts(paths: Partial<typeof contractPaths> = {}, options: { includeWarnings?: boolean } = {}): Promise<LintFinding[]> {
  const files = { ...contractPaths, ...paths };
  const findings: LintFinding[] = [];
  const wholeFile = (contract: string, rule: string, error: unknown): LintFinding => ({ contract, line: 1, path: '$', message: oneLine(error), rule, severity: 'error' });
  for (const document of [files.openapi, files.asyncapi]) {
    try {
      findings.push(...(await lintFile(document, { conventions: true })));
    } catch (error) {
      findings.push(wholeFile(document, 'read', error instanceof LintInputError ? error.reason : error));
    }
  }
  for (const schemaPath of [files.runtimeEnvSchema, files.reportSchema, files.gateConfigSchema, files.parityPolicySchema, files.parityReportSchema, files.dbRolesSchema]) {
    try {
      findings.push(...lintJsonSchema(schemaPath, JSON.parse(await readFile(schemaPath, 'utf8'))));
    } catch (error) {
      findings.push(wholeFile(schemaPath, 'json-schema', error));
    }
  }
  const loaders: Array<[string, () => unknown]> = [
    [files.dbRoles, () => loadDbRolePolicy(files.dbRoles)],
    [files.parityPolicy, () => loadParityPolicy(files.parityPolicy)],
    [files.migrationsDir, () => loadContractMigrations(files.migrationsDir)],
  ];
  for (const [file, load] of loaders) {
    try {
      load();
    } catch (error) {
      findings.push(wholeFile(file, 'contract-files', error));
    }
  }
  return options.includeWarnings ? findings : findings.filter(isFailing);
}

/** Lints each file in turn (every finding, warnings included). The first file that cannot be linted throws its {@link LintInputError}. */
export async function lintFiles(files: readonly string[], options: LintOptions = {}): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  for (const file of files) findings.push(...(await lintFile(file, options)));
  return findings;
}

/** Lints one OpenAPI, AsyncAPI or JSON Schema document, YAML or JSON. Every finding, warnings included. */
export async function lintFile(file: string, options: LintOptions = {}): Promise<LintFinding[]> {
  const absolute = resolvePath(file);
  const { text, data } = await readContractDocument(file, absolute, (reason) => new LintInputError(file, reason));
  const doc = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  const builtIn = absolute === contractPaths.openapi || absolute === contractPaths.asyncapi;
  const conventions = options.conventions === true || builtIn;
  if (doc && (typeof doc.openapi === 'string' || typeof doc.swagger === 'string')) {
    const findings = await runSpectral(absolute, text, conventions ? 'openapi-conventions' : 'openapi', options);
    if (!findings.some(isFailing)) findings.push(...(await swaggerParserFindings(absolute, doc, options)));
    return findings;
  }
  if (doc && typeof doc.asyncapi === 'string') {
    const findings = await runSpectral(absolute, text, conventions ? 'asyncapi-conventions' : 'asyncapi', options);
    if (!findings.some(isFailing)) findings.push(...(await asyncApiParserFindings(absolute, text)));
    return findings;
  }
  if (doc && (typeof doc.$schema === 'string' || (typeof doc.type === 'string' && (doc.properties !== undefined || doc.$defs !== undefined)))) {
    return lintJsonSchema(absolute, doc);
  }
  throw new LintInputError(file, 'not an OpenAPI, AsyncAPI or JSON Schema document (no `openapi`, `swagger`, `asyncapi` or `$schema` field)');
}

// ------------------------------------------------------------------------------- Spectral

type RulesetName = 'openapi' | 'openapi-conventions' | 'asyncapi' | 'asyncapi-conventions';

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json | undefined => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Effective security of an operation: its own, else the document's; true when some scheme is required. */
function requiresAuth(root: Json, operation: Json): boolean {
  const security = Array.isArray(operation.security) ? operation.security : Array.isArray(root.security) ? root.security : [];
  return security.length > 0 && !security.some((requirement) => Object.keys(asObject(requirement) ?? {}).length === 0);
}

/** `given` of every operation of an OpenAPI document (as Spectral's own `#OperationObject`). */
const OPERATIONS = `$.paths[*][${METHODS.join(',')}]`;

const documents401: RulesetFunction<Json, null> = (operation, _options, context) => {
  const root = asObject(context.document.data) ?? {};
  const responses = asObject(operation.responses);
  if (!responses || !requiresAuth(root, operation) || '401' in responses || '4XX' in responses) return;
  return [{ message: 'An operation that requires authentication must document its 401 answer.', path: [...context.path, 'responses'] }];
};

const documents400: RulesetFunction<Json, null> = (operation, _options, context) => {
  const responses = asObject(operation.responses);
  if (!responses || operation.requestBody === undefined || '400' in responses || '4XX' in responses) return;
  return [{ message: 'An operation that takes a request body must document its 400 answer (invalid_request).', path: [...context.path, 'responses'] }];
};

/** Branches of a schema and of its `allOf`s (the document is resolved). */
function allOfBranches(schema: Json, depth = 0): Json[] {
  const branches = [schema];
  if (depth < 16 && Array.isArray(schema.allOf)) for (const branch of schema.allOf) if (asObject(branch)) branches.push(...allOfBranches(branch as Json, depth + 1));
  return branches;
}

const errorEnvelope: RulesetFunction<Json, null> = (response, _options, context) => {
  // context.path is [..., 'paths', PATH, METHOD, 'responses', STATUS].
  const [status, , method, path] = [...context.path].reverse().map(String);
  if (!status || !/^[45]/.test(status)) return;
  // The one documented exception (contracts/runtime.openapi.yaml info.description): GET /readyz 503.
  if (path === '/readyz' && method === 'get' && status === '503') return;
  const content = asObject(response.content) ?? {};
  for (const [mediaType, rawMedia] of Object.entries(content)) {
    if (!/json/i.test(mediaType)) continue;
    const schema = asObject(asObject(rawMedia)?.schema);
    const branches = schema ? allOfBranches(schema) : [];
    const envelope = branches.some((branch) => {
      const error = asObject(asObject(branch.properties)?.error);
      const required = (list: unknown, names: string[]) => Array.isArray(list) && names.every((n) => list.includes(n));
      return required(branch.required, ['error']) && error !== undefined && allOfBranches(error).some((e) => required(e.required, ['code', 'message']));
    });
    if (!envelope) {
      return [{ message: `A ${status} body must be the error envelope {"error":{"code","message","details"?}} (#/components/schemas/ErrorEnvelope).`, path: [...context.path, 'content', mediaType, 'schema'] }];
    }
  }
  return;
};

const strictBody: RulesetFunction = (value) => (value === false ? undefined : [{ message: 'A JSON request body schema must be strict (additionalProperties: false).' }]);

const snakeCase: RulesetFunction = (name) => (typeof name === 'string' && !/^[a-z][a-z0-9_]*$/.test(name) ? [{ message: `Field "${name}" is not snake_case.` }] : undefined);

/** An error-severity Spectral rule that shows its function's message (Spectral shows the description otherwise). */
function spectralRule(rule: Pick<RuleDefinition, 'description' | 'given'>, action: RuleDefinition['then']): RuleDefinition {
  // biome-ignore lint/suspicious/noThenProperty: Spectral's rule format names the rule's action `then`.
  return { ...rule, severity: 'error', message: '{{error}}', then: action };
}

/**
 * This project's HTTP conventions (contracts/runtime.openapi.yaml `info.description`, also
 * asserted on the compiled contract by test/contracts/contracts.test.ts), as Spectral rules.
 */
export const OPENAPI_CONVENTION_RULES: Record<string, RuleDefinition> = {
  'runtime-gate-strict-request-body': spectralRule(
    {
      description: 'Request bodies are strict: a JSON request body schema has additionalProperties: false.',
      given: '$.paths[*][*].requestBody.content[?(@property.match(/json/i))].schema',
    },
    { field: 'additionalProperties', function: strictBody },
  ),
  'runtime-gate-documents-400': spectralRule({ description: 'An operation with a request body documents 400 invalid_request.', given: OPERATIONS }, { function: documents400 }),
  'runtime-gate-documents-401': spectralRule({ description: 'An operation that requires authentication documents 401.', given: OPERATIONS }, { function: documents401 }),
  'runtime-gate-error-envelope': spectralRule({ description: 'Every 4xx/5xx JSON body is the error envelope (except GET /readyz 503).', given: `${OPERATIONS}.responses[*]` }, { function: errorEnvelope }),
  'runtime-gate-snake-case-fields': spectralRule({ description: 'Bodies are JSON with snake_case fields.', given: '$.components.schemas..properties' }, { field: '@key', function: snakeCase }),
};

/** Maintained AsyncAPI rules turned off for the built-in contract, each with why. */
export const ASYNCAPI_CONVENTION_OVERRIDES = {
  // Every operation has a `title` and a `summary`; what each frame means and when it is sent is
  // in the `khala` channel description and contracts/KHALA_ORDERING.md, not repeated per operation.
  'asyncapi-3-operation-description': 'off',
  // components.schemas is also the source of contracts/generated/khala-frames.ts and of the frame
  // validators in contracts/khala-frame-schemas.ts (ClientFrame, ServerFrame, CloseCode, ...):
  // schemas used by code, not referenced from a message, are not unused.
  'asyncapi-unused-components-schema': 'off',
  // The contact names the maintainers, as in contracts/runtime.openapi.yaml; there is no project
  // URL or mailbox to publish (the oas ruleset does not recommend its `contact-properties` either).
  'asyncapi-info-contact-properties': 'off',
} as const;

const OPENAPI: RulesetDefinition = {
  extends: [[oasRuleset as RulesetDefinition, 'recommended']],
  rules: {
    // An operation that requires a scheme the document does not define cannot be called: an error, not a style warning.
    'oas3-operation-security-defined': 'error',
    'oas2-operation-security-defined': 'error',
  },
};
const ASYNCAPI: RulesetDefinition = { extends: [[asyncapiRuleset as RulesetDefinition, 'recommended']] };

const RULESETS: Record<RulesetName, RulesetDefinition> = {
  openapi: OPENAPI,
  'openapi-conventions': { extends: [OPENAPI], rules: OPENAPI_CONVENTION_RULES },
  asyncapi: ASYNCAPI,
  'asyncapi-conventions': { extends: [ASYNCAPI], rules: ASYNCAPI_CONVENTION_OVERRIDES },
};

const compiled = new Map<RulesetName, Ruleset>();

function rulesetFor(name: RulesetName): Ruleset {
  let ruleset = compiled.get(name);
  if (!ruleset) {
    ruleset = new Ruleset(RULESETS[name]);
    compiled.set(name, ruleset);
  }
  return ruleset;
}

/** Reads `$ref`ed files; refuses remote refs (the lint reads local files only unless `remoteRefs`). */
function localFileResolver(): Resolver {
  const readLocal = async (uri: { href(): string; scheme(): string }) => {
    if (/^https?$/i.test(uri.scheme())) throw new Error(`remote $ref ${uri.href()} not fetched (local files only; --remote-refs fetches it)`);
    return readFile(uri.href(), 'utf8');
  };
  return new Resolver({ resolvers: { file: { resolve: readLocal }, http: { resolve: readLocal }, https: { resolve: readLocal } } });
}

const SEVERITY: Record<number, LintSeverity | undefined> = { 0: 'error', 1: 'warning' };

async function runSpectral(file: string, text: string, ruleset: RulesetName, options: LintOptions): Promise<LintFinding[]> {
  const spectral = new Spectral({ resolver: options.remoteRefs ? createHttpAndFileResolver() : localFileResolver() });
  spectral.setRuleset(rulesetFor(ruleset));
  const document = file.toLowerCase().endsWith('.json') ? new Document(text, SpectralParsers.Json, file) : new Document(text, SpectralParsers.Yaml, file);
  const results: IRuleResult[] = await spectral.run(document);
  const findings: LintFinding[] = [];
  // Spectral's order is by rule; a reader wants the file's order (stable, so ties keep Spectral's).
  results.sort((a, b) => (a.source ?? file).localeCompare(b.source ?? file) || a.range.start.line - b.range.start.line);
  for (const result of results) {
    const severity = SEVERITY[result.severity];
    if (!severity) continue;
    findings.push({
      contract: result.source ?? file,
      line: result.range.start.line + 1,
      path: result.path.length > 0 ? result.path.join('.') : '$',
      message: oneLine(result.message),
      rule: String(result.code),
      severity,
    });
  }
  return findings;
}

// --------------------------------------------------------------- structural (second opinion)

async function swaggerParserFindings(file: string, doc: Json, options: LintOptions): Promise<LintFinding[]> {
  try {
    await SwaggerParser.validate(file, structuredClone(doc) as never, { resolve: { http: options.remoteRefs === true ? {} : false } });
    return [];
  } catch (error) {
    const [first, ...details] = (error instanceof Error ? error.message : String(error)).split('\n').map((l) => l.trim()).filter(Boolean);
    return [{ contract: file, line: 1, path: '$', message: [first, ...details].join(' '), rule: 'swagger-parser', severity: 'error' }];
  }
}

async function asyncApiParserFindings(file: string, text: string): Promise<LintFinding[]> {
  const { diagnostics } = await new AsyncApiParser().parse(text, { source: file });
  return diagnostics
    .filter((d) => d.severity === 0)
    .map((d) => ({
      contract: d.source ?? file,
      line: d.range.start.line + 1,
      path: d.path.length > 0 ? d.path.join('.') : '$',
      message: oneLine(d.message),
      rule: `asyncapi-parser/${String(d.code)}`,
      severity: 'error' as const,
    }));
}

function lintJsonSchema(file: string, schema: unknown): LintFinding[] {
  const draft = String(asObject(schema)?.$schema ?? '');
  try {
    // draft-07 and earlier (as most third-party schemas) with Ajv; 2019-09/2020-12 (and no $schema) with Ajv2020.
    const ajv = /draft-0[67]/.test(draft) ? new Ajv({ strict: false }) : new Ajv2020({ strict: false });
    addFormats.default(ajv);
    ajv.compile(schema as object);
    return [];
  } catch (error) {
    return [{ contract: file, line: 1, path: '$', message: oneLine(error), rule: 'json-schema', severity: 'error' }];
  }
}

