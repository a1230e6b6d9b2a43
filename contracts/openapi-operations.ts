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
  /** Documented status codes → content type and body validator. */
  responses: Map<number, { contentType?: string; validate?: ValidateFunction }>;
  pathPattern: RegExp;
}

export interface OpenApiContract {
  /** The bundled document (refs kept), as served at /internal/v1/openapi.json. */
  bundled: OpenAPIV3_1.Document;
  operations: Map<string, OperationSpec>;
  /** Finds the operation a concrete request hit, e.g. `POST /internal/v1/runs/run_1/events`. */
  matchOperation(method: string, concretePath: string): OperationSpec | undefined;
  /** Violations of a response against the operation's documented statuses and schemas. */
  validateResponse(operationId: string, status: number, body: unknown, contentType?: string): SchemaViolation[];
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

      const responses = new Map<number, { contentType?: string; validate?: ValidateFunction }>();
      for (const [code, response] of Object.entries(op.responses ?? {})) {
        const status = Number(code);
        if (!Number.isInteger(status)) continue;
        const content = (response as OpenAPIV3_1.ResponseObject).content ?? {};
        const [contentType, media] = Object.entries(content)[0] ?? [];
        const schema = (media as OpenAPIV3_1.MediaTypeObject | undefined)?.schema;
        const entry: { contentType?: string; validate?: ValidateFunction } = contentType ? { contentType } : {};
        if (schema && contentType === 'application/json') {
          // Compiled on first use: the server never validates its own responses, so its start-up
          // does not pay for ~100 response validators only the harness and the tests need.
          let compiled: ValidateFunction | undefined;
          Object.defineProperty(entry, 'validate', { enumerable: true, get: () => (compiled ??= bodyAjv.compile(schema)) });
        }
        responses.set(status, entry);
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
    validateResponse(operationId, status, body, contentType) {
      const op = operations.get(operationId);
      if (!op) return [{ path: '$', message: `unknown operation ${operationId}` }];
      const documented = op.responses.get(status);
      const where = `${op.method.toUpperCase()} ${op.path} ${status}`;
      if (!documented) {
        return [{ path: '$', message: `${where}: status not documented (documented: ${[...op.responses.keys()].join(', ')})` }];
      }
      if (documented.contentType && contentType && !contentType.startsWith(documented.contentType)) {
        return [{ path: '$', message: `${where}: content-type ${contentType}, expected ${documented.contentType}` }];
      }
      if (documented.validate && !documented.validate(body)) {
        return formatAjvErrors(documented.validate.errors).map((v) => ({ path: v.path, message: `${where}: ${v.path} ${v.message}` }));
      }
      return [];
    },
  };
}
