/**
 * Starts the reference server in-process on port 0 against a test database, and a
 * client whose every response is validated against the OpenAPI contract.
 */
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { type RuntimeConfig, toRuntimeConfig } from '../../reference-server/config/runtime-config.ts';
import { devDefault, loadRuntimeEnv } from '../../reference-server/config/runtime-env.ts';
import { createLogger } from '../../reference-server/logger.ts';
import { createReferenceServer, type ReferenceServer } from '../../reference-server/server.ts';
import type { TestDatabase } from './test-database.ts';

export const DEV_INTERNAL_TOKEN = devDefault('RUNTIME_INTERNAL_TOKEN');

export interface TestServer {
  url: string;
  server: ReferenceServer;
  config: RuntimeConfig;
  /** pino lines the server wrote. */
  logLines: string[];
  api: ContractClient;
  close(): Promise<void>;
}

export async function startTestServer(db: TestDatabase, env: Record<string, string> = {}): Promise<TestServer> {
  const loaded = loadRuntimeEnv({ DATABASE_URL: db.url, LOG_LEVEL: 'info', ...env });
  if (loaded.violations.length > 0) throw new Error(`test env invalid: ${JSON.stringify(loaded.violations)}`);
  const config = toRuntimeConfig(loaded);
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  const server = await createReferenceServer({ pool: db.pool, config, logger: createLogger('info', destination) });
  const { url } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { url, server, config, logLines, api: await createContractClient(url, config.internalToken), close: () => server.close() };
}

export interface ApiResponse {
  status: number;
  body: any;
  headers: Headers;
  text: string;
}

export interface ContractClient {
  call(method: string, path: string, options?: { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string | null }): Promise<ApiResponse>;
}

/** Every response is checked against the operation's documented statuses and schemas. */
export async function createContractClient(baseUrl: string, token: string): Promise<ContractClient> {
  const contract = await loadOpenApiContract();
  return {
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      const bearer = options.token === undefined ? token : options.token;
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(15_000) });
      const text = await response.text();
      const contentType = response.headers.get('content-type') ?? '';
      const parsed = contentType.includes('json') ? JSON.parse(text) : text;
      const operation = contract.matchOperation(method, path);
      if (operation) {
        const violations = contract.validateResponse(operation.operationId, response.status, parsed, contentType);
        expect(violations, `${method} ${path} → ${response.status} ${text.slice(0, 300)}`).toEqual([]);
      } else {
        expect(response.status, `${method} ${path} matches no contract operation, so it must be a 404`).toBe(404);
      }
      return { status: response.status, body: parsed, headers: response.headers, text };
    },
  };
}
