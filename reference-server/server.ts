/**
 * The reference runtime as an app factory (STYLE 5): createReferenceServer builds
 * the HTTP app on an injected pool, config and logger; listen() and close() are
 * separate so tests listen on port 0 and main() handles signals.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import { loadOpenApiContract, type OpenApiContract } from '../contracts/openapi-operations.ts';
import { RunAuthority } from './authority/run-authority.ts';
import type { RuntimeConfig } from './config/runtime-config.ts';
import { CreditStore } from './credit/credit-store.ts';
import { createPaymentBackend } from './credit/payment-backend.ts';
import { isDatabaseUnavailable } from './db/transaction.ts';
import { ApiError, errorEnvelope } from './http/api-error.ts';
import { DRAIN_LIMITS, drainRequestBody } from './http/drain-request.ts';
import { createInternalBearerCheck } from './http/internal-auth.ts';
import { type OperationHandler, registerContractRoutes } from './http/route-table.ts';
import { KhalaGateway } from './khala/khala-gateway.ts';
import { KhalaHub } from './khala/khala-hub.ts';
import { KhalaMetrics } from './khala/khala-metrics.ts';
import { PublishRateLimiter } from './khala/publish-rate-limiter.ts';
import { RevocationStore } from './khala/revocation-store.ts';
import { createLogger, redactUrl } from './logger.ts';
import { creditRoutes } from './routes/credit-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { createSyncTokenCheck, khalaRoutes } from './routes/khala-routes.ts';
import { runRoutes } from './routes/run-routes.ts';
import { syncRoutes } from './routes/sync-routes.ts';

export interface ReferenceServerOptions {
  pool: Pool;
  config: RuntimeConfig;
  /** Defaults to a pino logger at config.logLevel on stdout. */
  logger?: Logger;
  /** Defaults to contracts/runtime.openapi.yaml. */
  contract?: OpenApiContract;
  /** Connection string for Khala's LISTEN connection; defaults to the pool's. */
  databaseUrl?: string;
}

export interface ReferenceServer {
  app: FastifyInstance;
  config: RuntimeConfig;
  /** operationIds this server implements. */
  operations: string[];
  listen(options?: { host?: string; port?: number }): Promise<{ url: string; port: number }>;
  /** Stops accepting, closes sockets, drains in-flight requests. Does not end the pool (the caller owns it). */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** SQLSTATEs for text a request carried that PostgreSQL cannot store: invalid byte sequence (NUL), untranslatable character (jsonb \u0000). */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

/**
 * Fixed HTTP limits (documented in README "Limits"): request headers up to 16 KiB in all
 * (431 beyond), a path parameter up to 256 characters (400 beyond), JSON bodies nested at
 * most 128 levels (400 beyond), and a whole request received within 30 s (408 beyond, so a
 * client trickling bytes cannot hold a socket).
 */
export const HTTP_LIMITS = { maxHeaderBytes: 16 * 1024, maxPathParamLength: 256, requestTimeoutMs: 30_000, maxJsonDepth: 128 } as const;

/** True when `value` nests arrays/objects deeper than `max` levels (iterative: safe on any depth). */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** True when the connection closes after this reply: the reply says so (fastify does on a body it stopped reading), or the client asked for it. */
function closesConnection(request: FastifyRequest, reply: FastifyReply): boolean {
  const saysClose = (value: unknown) => /(^|,)\s*close\s*(,|$)/i.test(String(value ?? ''));
  if (saysClose(reply.getHeader('connection')) || saysClose(request.headers.connection)) return true;
  return request.raw.httpVersion === '1.0' && !/keep-alive/i.test(request.headers.connection ?? '');
}

/**
 * Answers what Node's HTTP parser rejects before any route runs (headers over the limit, a
 * malformed request line, a request timeout) with the error envelope, then closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, reason, message, reasonCode] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', `request headers exceed ${HTTP_LIMITS.maxHeaderBytes} bytes`, 'headers_too_large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', `the request was not received within ${HTTP_LIMITS.requestTimeoutMs} ms`, 'request_timeout']
        : [400, 'Bad Request', 'the request is not valid HTTP', 'malformed_http'];
  const body = JSON.stringify(errorEnvelope('invalid_request', message, { reason_code: reasonCode }));
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export async function createReferenceServer(options: ReferenceServerOptions): Promise<ReferenceServer> {
  const { pool, config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const contract = options.contract ?? (await loadOpenApiContract());

  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // Requests are logged once, on completion, by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: config.http.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: HTTP_LIMITS.maxPathParamLength },
    http: { maxHeaderSize: HTTP_LIMITS.maxHeaderBytes },
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    clientErrorHandler: answerClientError,
    // Router-level rejections (an undecodable URL, a path parameter over the limit) are bad requests like any other.
    frameworkErrors: (error, _request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      (reply as unknown as FastifyReply)
        .code(400)
        .send(errorEnvelope('invalid_request', tooLong ? `a path parameter exceeds ${HTTP_LIMITS.maxPathParamLength} characters` : 'the URL cannot be decoded', { reason_code: tooLong ? 'path_parameter_too_long' : 'bad_url' }));
    },
  });

  const metrics = new Registry();
  const httpRequests = new Counter({
    name: 'runtime_http_requests_total',
    help: 'HTTP requests answered, by route template and status.',
    labelNames: ['route', 'status'],
    registers: [metrics],
  });

  // An empty body on an operation whose body is optional is the same as no body.
  const defaultJsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    defaultJsonParser(request, body as string, (error, parsed) => {
      if (error) return done(error, undefined);
      // Deeply nested JSON parses fine but overflows the stack of recursive code later (hashing, jsonb).
      if (jsonDepthExceeds(parsed, HTTP_LIMITS.maxJsonDepth)) {
        return done(new ApiError('invalid_request', `JSON nested deeper than ${HTTP_LIMITS.maxJsonDepth} levels`, { reason_code: 'json_too_deep', max_depth: HTTP_LIMITS.maxJsonDepth }), undefined);
      }
      done(null, parsed);
    });
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // A reply sent before the body was read that closes the connection (413 on the declared
  // length, 400 or 413 mid-body: fastify's content-type parser adds `connection: close`)
  // waits until the rest of the body has been read and discarded, within DRAIN_LIMITS, so a
  // client still uploading is not reset before it reads the answer (http/drain-request.ts).
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.raw.complete || !closesConnection(request, reply)) return payload;
    const drained = await drainRequestBody(request.raw, DRAIN_LIMITS);
    if (drained.outcome !== 'complete') {
      request.log.info({ drain_outcome: drained.outcome, drained_bytes: drained.bytes, status: reply.statusCode }, 'request body not read to its end: the connection closes with it');
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequests.inc({ route, status: String(reply.statusCode) });
    request.log.info(
      { method: request.method, url: redactUrl(request.url), route, status: reply.statusCode, duration_ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorEnvelope('not_found', `no route ${request.method} ${redactUrl(request.url).split('?')[0]}`));
  });

  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) {
      if (error.headers) reply.headers(error.headers);
      return reply.code(error.status).send(errorEnvelope(error.code, error.message, error.details ?? {}));
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(errorEnvelope('payload_too_large', `request body exceeds ${config.http.bodyLimitBytes} bytes`, { max_body_bytes: config.http.bodyLimitBytes }));
    }
    if (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      // Malformed JSON, unsupported media type, bad content-length...: the request is wrong, never a 5xx.
      return reply.code(400).send(errorEnvelope('invalid_request', fastifyError.message, { reason_code: fastifyError.code ?? 'bad_request' }));
    }
    if (UNSTORABLE_TEXT.has((error as { code?: string }).code ?? '')) {
      // A NUL character (or an invalid \u escape) in a path, query or JSON value: the input is wrong, not the server.
      return reply.code(400).send(errorEnvelope('invalid_request', 'the request holds text PostgreSQL cannot store (such as a NUL character)', { reason_code: 'unstorable_text' }));
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      return reply.code(503).send(errorEnvelope('dependency_unavailable', 'the database is unavailable', { dependency: 'postgres' }));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(errorEnvelope('internal_error', 'internal error', { request_id: request.id }));
  });

  const khalaMetrics = new KhalaMetrics(metrics);
  const databaseUrl = options.databaseUrl ?? (pool as unknown as { options: { connectionString?: string } }).options.connectionString;
  if (!databaseUrl) throw new Error('createReferenceServer needs databaseUrl (the pool has no connectionString)');
  const hub = new KhalaHub({ pool, databaseUrl, config, logger, metrics: khalaMetrics });
  const revocations = new RevocationStore(pool);
  const gateway = new KhalaGateway({ pool, config, hub, revocations, metrics: khalaMetrics, logger });
  gateway.attach(app.server);
  const runs = new RunAuthority(pool, config, { onCommitted: (topic, seq) => hub.notifyCommitted(topic, seq), rateLimiter: new PublishRateLimiter() });
  const handlers: Record<string, OperationHandler> = {
    ...healthRoutes({ pool, config, contract }),
    ...runRoutes({ config, runs }),
    ...creditRoutes({
      config,
      credit: new CreditStore({ pool, policy: config.credit.policy, paymentBackend: createPaymentBackend(config.credit.paymentBackend) }),
    }),
    ...khalaRoutes({ pool, config, hub, metrics: khalaMetrics, revocations, activeConnections: () => gateway.connectionCount }),
    ...syncRoutes({ config, revocations, gateway }),
    getMetrics: async ({ reply }) => {
      reply.header('content-type', metrics.contentType);
      return { status: 200, body: await metrics.metrics() };
    },
  };
  const operations = registerContractRoutes(app, {
    contract,
    handlers,
    security: { internalBearer: createInternalBearerCheck(config.internalToken), syncToken: createSyncTokenCheck(config, revocations) },
  });
  await app.ready();

  return {
    app,
    config,
    operations,
    async listen(listenOptions = {}) {
      await hub.start();
      const host = listenOptions.host ?? config.bindHost;
      await app.listen({ host, port: listenOptions.port ?? config.bindPort });
      const address = app.server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { url: `http://${shownHost}:${address.port}`, port: address.port };
    },
    async close() {
      gateway.closeAll();
      await hub.stop();
      await app.close();
    },
  };
}
