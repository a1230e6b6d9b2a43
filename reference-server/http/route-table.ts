/**
 * Binds operation handlers to the routes the OpenAPI contract declares, so a route
 * can only exist if the contract documents it. Before a handler runs, the request
 * is authenticated per the operation's security scheme and its parameters and body
 * are validated against the contract: a violation is a 400 `invalid_request`
 * listing every problem, never a 500.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatAjvErrors, type OpenApiContract, type OperationSpec } from '../../contracts/openapi-operations.ts';
import { ApiError } from './api-error.ts';

export interface HandlerContext {
  request: FastifyRequest;
  reply: FastifyReply;
  operation: OperationSpec;
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Set when the handler already wrote the response itself (streams). */
  handled?: boolean;
}

export type OperationHandler = (context: HandlerContext) => Promise<HandlerResult>;

/** Authenticates a request for one security scheme; throws ApiError when it fails. */
export type SecurityCheck = (request: FastifyRequest) => void | Promise<void>;

export interface RouteTableOptions {
  contract: OpenApiContract;
  handlers: Partial<Record<string, OperationHandler>>;
  security: Record<string, SecurityCheck>;
}

/** Fastify path syntax for an OpenAPI template: `/runs/{run_id}` → `/runs/:run_id`. */
export function toFastifyPath(template: string): string {
  return template.replace(/\{([^}]+)\}/g, ':$1');
}

export function registerContractRoutes(app: FastifyInstance, options: RouteTableOptions): string[] {
  const registered: string[] = [];
  for (const [operationId, handler] of Object.entries(options.handlers)) {
    const operation = options.contract.operations.get(operationId);
    if (!operation || !handler) throw new Error(`handler for ${operationId}, which the contract does not declare`);
    app.route({
      method: operation.method.toUpperCase() as 'GET',
      url: toFastifyPath(operation.path),
      handler: async (request, reply) => {
        for (const scheme of operation.security) {
          const check = options.security[scheme];
          if (!check) throw new Error(`no security check for scheme ${scheme}`);
          await check(request);
        }
        const input = {
          path: { ...(request.params as Record<string, string>) },
          query: { ...(request.query as Record<string, unknown>) },
          header: { ...(request.headers as Record<string, unknown>) },
        };
        const violations = operation.validateParameters(input) ? [] : formatAjvErrors(operation.validateParameters.errors, '');
        let body: unknown = request.body;
        if (operation.requestBody) {
          if (body === undefined || body === null) {
            if (operation.requestBody.required) violations.push({ path: '$', message: 'request body is required' });
            else body = {};
          }
          if (body !== undefined && body !== null && !operation.requestBody.validate(body)) {
            violations.push(...formatAjvErrors(operation.requestBody.validate.errors));
          }
        } else if (body !== undefined && body !== null && !(typeof body === 'string' && body === '')) {
          violations.push({ path: '$', message: 'this operation takes no request body' });
        }
        if (violations.length > 0) {
          throw new ApiError('invalid_request', `${operation.method.toUpperCase()} ${operation.path}: ${violations.map((v) => `${v.path.replace(/^\./, '')} ${v.message}`.trim()).join('; ')}`, {
            violations: violations.map((v) => ({ path: v.path.replace(/^\./, '') || '$', message: v.message })),
          });
        }
        const result = await handler({
          request,
          reply,
          operation,
          params: input.path,
          query: input.query,
          headers: input.header,
          body,
        });
        if (result.handled) return reply;
        if (result.headers) reply.headers(result.headers);
        reply.code(result.status);
        return result.body === undefined ? reply.send() : reply.send(result.body);
      },
    });
    registered.push(operationId);
  }
  return registered;
}
