/**
 * The reference runtime as an app factory (STYLE 5): createReferenceServer builds
 * the HTTP app on an injected pool, config and logger; listen() and close() are
 * separate so tests listen on port 0 and main() handles signals.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
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
import { createInternalBearerCheck } from './http/internal-auth.ts';
import { registerContractRoutes, type OperationHandler } from './http/route-table.ts';
import { createLogger, redactUrl } from './logger.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { KhalaGateway } from './khala/khala-gateway.ts';
import { KhalaHub } from './khala/khala-hub.ts';
import { KhalaMetrics } from './khala/khala-metrics.ts';
import { PublishRateLimiter } from './khala/publish-rate-limiter.ts';
import { RevocationStore } from './khala/revocation-store.ts';
import { creditRoutes } from './routes/credit-routes.ts';
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
    routerOptions: { ignoreTrailingSlash: false },
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
    defaultJsonParser(request, body as string, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
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
