import pg from 'pg';
import type { Logger } from 'pino';
import { redactDatabaseUrl } from '../logger.ts';

export interface PoolOptions {
  max?: number;
  /** statement_timeout set on every connection; 0 disables it. */
  statementTimeoutMs?: number;
  logger?: Pick<Logger, 'warn'>;
  applicationName?: string;
}

/** A pg pool whose connection errors (idle or checked out) are logged instead of crashing the process. */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'runtime-gate',
    connectionTimeoutMillis: 10_000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  pool.on('error', (error) => {
    options.logger?.warn({ err: { message: error.message, code: (error as { code?: string }).code }, database: redactDatabaseUrl(url) }, 'idle database connection failed');
  });
  // pg emits 'error' on a client whose connection ends; the pool listens only while the
  // client is idle, so a client checked out when PostgreSQL restarts would crash the
  // process. The query in flight fails on its own (503 via isDatabaseUnavailable).
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      options.logger?.warn({ err: { message: error.message, code: (error as { code?: string }).code }, database: redactDatabaseUrl(url) }, 'database connection failed while in use');
    });
  });
  return pool;
}
