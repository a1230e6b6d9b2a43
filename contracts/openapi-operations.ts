/**
 * The HTTP contract compiled for use at run time: every operation of
 * runtime.openapi.yaml with validators for its parameters, body and documented
 * responses, compiled once (SPEC §2.1). The reference server validates requests
 * with it; the harness and the tests validate every response they see with it.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenAPIV3_1 } from 'openapi-types';
import { contractPaths } from './contract-files.ts';
import { isJsonMediaType, mediaTypeOf } from './media-type.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

export interface SchemaViolation {
  /** JSONPath-like location, e.g. `$.event.seq` or `query.limit`. */
  path: string;
  message: string;
}

export interface OperationSpec {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI path template, e.g. `/internal/v1/runs/{run_id}`. */
  path: string;
  /** Security scheme names required (empty: no auth). */
  security: string[];
  requestBody?: { required: boolean; schema: Record<string, unknown>; validate: ValidateFunction };
  /** Validates `{ path, query, header }` objects of raw strings (coerced in place). */
  validateParameters: ValidateFunction;
  /** Documented status codes → media types, body validators and headers. */
  responses: Map<number, ResponseSpec>;
  pathPattern: RegExp;
}

/** One documented response of an operation. */
export interface ResponseSpec {
  /** The first documented media type, as written in the contract. */
  contentType?: string;
  /** Every documented media type, lowercase and without parameters (see contracts/media-type.ts). */
  mediaTypes: string[];
  /** Body validator of the first media type when it is `application/json`. */
  validate?: ValidateFunction;
  /** Body validator for a documented JSON media type (undefined: not JSON, or no schema). */
  bodyValidator(mediaType: string): ValidateFunction | undefined;
  /** The documented response headers (`Content-Type` is left out, as OpenAPI 3.1 says). */
  headers: ResponseHeaderSpec[];
}

/** A response header the contract declares, e.g. `Retry-After` on 429 (`#/components/headers/RetryAfter`). */
export interface ResponseHeaderSpec {
  /** As written in the contract, e.g. `Retry-After`. */
  name: string;
  /** `required: true` in the contract: every answer with this status carries it. */
  required: boolean;
  schema?: Record<string, unknown>;
  /** Problems with a received value (the raw header string, read per the schema's type); empty when valid. */
  check(value: string): string[];
}

/** Response headers as received: a fetch `Headers`, or a record of names (any case) to values. */
export type ResponseHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface OpenApiContract {
  /** The bundled document (refs kept), as served at /internal/v1/openapi.json. */
  bundled: OpenAPIV3_1.Document;
  operations: Map<string, OperationSpec>;
  /** Finds the operation a concrete request hit, e.g. `POST /internal/v1/runs/run_1/events`. */
  matchOperation(method: string, concretePath: string): OperationSpec | undefined;
  /**
   * Violations of a response against the operation's documented statuses, media types,
   * schemas and (when `headers` is given) headers. `contentType` undefined: not known, not
   * checked; `''`: the answer had none. A string body under a documented JSON media type is
   * parsed first (an answer recorded as text). Without `contentType`, the `content-type` of
   * `headers` is used when they are given.
   */
  validateResponse(operationId: string, status: number, body: unknown, contentType?: string, headers?: ResponseHeaders): SchemaViolation[];
  /** Violations of the response headers the contract declares for this operation and status. */
  validateResponseHeaders(operationId: string, status: number, headers: ResponseHeaders): SchemaViolation[];
}

/** The value of a header (case-insensitive name); several values are joined with `, ` as fetch does. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    if (typeof value === 'string') values.push(value);
    else values.push(...(value as readonly string[]));
  }
  return values.length > 0 ? values.join(', ') : undefined;
}

const INTEGER_TEXT = /^-?[0-9]+$/;
const NUMBER_TEXT = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * A header's text read as the schema's type: an integer only from decimal digits (so
 * `Retry-After: 0x10`, `1e3` or `soon` stay strings and fail `type: integer`), a number
 * from decimal notation, a boolean from `true`/`false`; anything else stays a string.
 */
function readHeaderValue(value: string, schema: Record<string, unknown> | undefined): unknown {
  const declared = schema?.type;
  const types = Array.isArray(declared) ? declared : [declared];
  for (const type of types) {
    if (type === 'integer' && INTEGER_TEXT.test(value)) return Number(value);
    if (type === 'number' && NUMBER_TEXT.test(value)) return Number(value);
    if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
    if (type === 'string') return value;
  }
  return value;
}

export function formatAjvErrors(errors: ErrorObject[] | null | undefined, root = '$'): SchemaViolation[] {
  return (errors ?? []).map((error) => {
    const pointer = error.instancePath
      .split('/')
      .slice(1)
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
    let path = root;
    for (const part of pointer) path += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
    let message = error.message ?? error.keyword;
    if (error.keyword === 'additionalProperties') message = `unknown field ${(error.params as { additionalProperty: string }).additionalProperty}`;
    if (error.keyword === 'required') message = `missing required field ${(error.params as { missingProperty: string }).missingProperty}`;
    if (error.keyword === 'enum') message = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    return { path, message };
  });
}

function newAjv(coerceTypes: boolean): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, coerceTypes, validateFormats: true });
  addFormats.default(ajv);
  return ajv;
}

const cache = new Map<string, Promise<OpenApiContract>>();

/** Loads and compiles the contract once per path (all validators are compiled eagerly). */
export function loadOpenApiContract(path: string = contractPaths.openapi): Promise<OpenApiContract> {
  let loaded = cache.get(path);
  if (!loaded) {
    loaded = compileContract(path);
    cache.set(path, loaded);
  }
  return loaded;
}

async function compileContract(path: string): Promise<OpenApiContract> {
  const bundled = (await SwaggerParser.bundle(path)) as OpenAPIV3_1.Document;
  const dereferenced = (await SwaggerParser.dereference(structuredClone(bundled))) as OpenAPIV3_1.Document;
  const bodyAjv = newAjv(false);
  const paramAjv = newAjv(true);
  const operations = new Map<string, OperationSpec>();
  const globalSecurity = dereferenced.security ?? [];

  for (const [template, item] of Object.entries(dereferenced.paths ?? {})) {
    if (!item) continue;
    for (const method of METHODS) {
      const op = item[method] as OpenAPIV3_1.OperationObject | undefined;
      if (!op?.operationId) continue;
      const parameters = [...((item.parameters ?? []) as OpenAPIV3_1.ParameterObject[]), ...((op.parameters ?? []) as OpenAPIV3_1.ParameterObject[])];
      const groups: Record<string, { type: 'object'; properties: Record<string, unknown>; required: string[] }> = {
        path: { type: 'object', properties: {}, required: [] },
        query: { type: 'object', properties: {}, required: [] },
        header: { type: 'object', properties: {}, required: [] },
      };
      for (const parameter of parameters) {
        const group = groups[parameter.in];
        if (!group) continue;
        const name = parameter.in === 'header' ? parameter.name.toLowerCase() : parameter.name;
        group.properties[name] = parameter.schema ?? {};
        if (parameter.required) group.required.push(name);
      }
      const validateParameters = paramAjv.compile({ type: 'object', properties: groups });

      let requestBody: OperationSpec['requestBody'];
      const body = op.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
      const bodySchema = body?.content?.['application/json']?.schema as Record<string, unknown> | undefined;
      if (body && bodySchema) {
        requestBody = { required: body.required === true, schema: bodySchema, validate: bodyAjv.compile(bodySchema) };
      }

      const responses = new Map<number, ResponseSpec>();
      for (const [code, response] of Object.entries(op.responses ?? {})) {
        const status = Number(code);
        if (!Number.isInteger(status)) continue;
        responses.set(status, compileResponse(response as OpenAPIV3_1.ResponseObject, bodyAjv));
      }
      const security = (op.security ?? globalSecurity).flatMap((requirement) => Object.keys(requirement));
      const pathPattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '([^/]+)')}$`);
      operations.set(op.operationId, {
        operationId: op.operationId,
        method,
        path: template,
        security,
        ...(requestBody ? { requestBody } : {}),
        validateParameters,
        responses,
        pathPattern,
      });
    }
  }

  return {
    bundled,
    operations,
    matchOperation(method, concretePath) {
      const lower = method.toLowerCase();
      const pathOnly = concretePath.split('?')[0] ?? concretePath;
      let match: OperationSpec | undefined;
      for (const op of operations.values()) {
        if (op.method !== lower || !op.pathPattern.test(pathOnly)) continue;
        // Prefer the most literal template (fewest parameters) when several match.
        if (!match || op.path.split('{').length < match.path.split('{').length) match = op;
      }
      return match;
    },
    validateResponse(operationId, status, body, contentType, headers) {
      const op = operations.get(operationId);
      if (!op) return [{ path: '$', message: `unknown operation ${operationId}` }];
      const documented = op.responses.get(status);
      const where = `${op.method.toUpperCase()} ${op.path} ${status}`;
      if (!documented) {
        return [{ path: '$', message: `${where}: status not documented (documented: ${[...op.responses.keys()].join(', ')})` }];
      }
      const headerViolations = headers ? checkHeaders(documented, headers, where) : [];
      const given = contentType ?? (headers ? (headerValue(headers, 'content-type') ?? '') : undefined);
      let validate = documented.validate;
      if (documented.mediaTypes.length > 0 && given !== undefined) {
        const mediaType = mediaTypeOf(given);
        if (mediaType === undefined || !documented.mediaTypes.includes(mediaType)) {
          const expected = documented.mediaTypes.join(' or ');
          const message = given.trim() === '' ? `${where}: no content-type, expected ${expected}` : `${where}: content-type ${given}, expected ${expected}`;
          return [{ path: '$', message }, ...headerViolations];
        }
        validate = documented.bodyValidator(mediaType);
      }
      if (validate) {
        let value = body;
        if (typeof body === 'string') {
          try {
            value = JSON.parse(body);
          } catch {
            // Not JSON: the schema names what is wrong with the text as it is.
          }
        }
        if (!validate(value)) {
          return [...formatAjvErrors(validate.errors).map((v) => ({ path: v.path, message: `${where}: ${v.path} ${v.message}` })), ...headerViolations];
        }
      }
      return headerViolations;
    },
    validateResponseHeaders(operationId, status, headers) {
      const op = operations.get(operationId);
      const documented = op?.responses.get(status);
      if (!op || !documented) return [];
      return checkHeaders(documented, headers, `${op.method.toUpperCase()} ${op.path} ${status}`);
    },
  };
}

/** Every declared header: present when required, and valid against its schema when present. */
function checkHeaders(documented: ResponseSpec, headers: ResponseHeaders, where: string): SchemaViolation[] {
  const violations: SchemaViolation[] = [];
  for (const header of documented.headers) {
    const value = headerValue(headers, header.name);
    const path = `header.${header.name}`;
    if (value === undefined) {
      if (header.required) violations.push({ path, message: `${where}: header ${header.name} missing (the contract requires it)` });
      continue;
    }
    for (const problem of header.check(value)) violations.push({ path, message: `${where}: header ${header.name} ${JSON.stringify(value)} ${problem}` });
  }
  return violations;
}

/**
 * One documented response, its validators compiled on first use: the server never
 * validates its own responses, so its start-up does not pay for ~100 response validators
 * only the harness and the tests need.
 */
function compileResponse(response: OpenAPIV3_1.ResponseObject, ajv: Ajv2020): ResponseSpec {
  const content = Object.entries(response.content ?? {});
  const schemas = new Map<string, Record<string, unknown> | undefined>();
  for (const [type, media] of content) {
    const mediaType = mediaTypeOf(type);
    if (mediaType && !schemas.has(mediaType)) schemas.set(mediaType, (media as OpenAPIV3_1.MediaTypeObject).schema as Record<string, unknown> | undefined);
  }
  const compiled = new Map<string, ValidateFunction>();
  const bodyValidator = (mediaType: string): ValidateFunction | undefined => {
    const schema = schemas.get(mediaType);
    if (!schema || !isJsonMediaType(mediaType)) return undefined;
    let validate = compiled.get(mediaType);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(mediaType, validate);
    }
    return validate;
  };
  const headers: ResponseHeaderSpec[] = [];
  for (const [name, declared] of Object.entries(response.headers ?? {})) {
    // OpenAPI 3.1 (Response Object, `headers`): a header named Content-Type is ignored.
    if (name.toLowerCase() === 'content-type') continue;
    const header = declared as OpenAPIV3_1.HeaderObject;
    const schema = header.schema as Record<string, unknown> | undefined;
    let validate: ValidateFunction | undefined;
    headers.push({
      name,
      required: header.required === true,
      ...(schema ? { schema } : {}),
      check(value) {
        if (!schema) return [];
        validate ??= ajv.compile(schema);
        if (validate(readHeaderValue(value, schema))) return [];
        return formatAjvErrors(validate.errors).map((v) => v.message);
      },
    });
  }
  const [first] = content;
  const spec: ResponseSpec = { ...(first ? { contentType: first[0] } : {}), mediaTypes: [...schemas.keys()], bodyValidator, headers };
  if (first && mediaTypeOf(first[0]) === 'application/json' && schemas.get('application/json')) {
    Object.defineProperty(spec, 'validate', { enumerable: true, get: () => bodyValidator('application/json') });
  }
  return spec;
}
