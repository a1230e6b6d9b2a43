/**
 * One short-lived connection to a target's database for a check: bounded connect and
 * statement time, closed when the check ends or its deadline aborts it.
 */
import pg from 'pg';

export interface WithDatabaseOptions {
  signal?: AbortSignal;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Default 15 s. */
  statementTimeoutMs?: number;
}

/** Runs `fn` with a connected client; the password never appears in an error message. */
export async function withDatabase<T>(url: string, fn: (client: pg.Client) => Promise<T>, options: WithDatabaseOptions = {}): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    application_name: 'runtime-gate',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
  });
  // An aborted check ends its connection so a hung database cannot hold the run.
  const onAbort = () => void client.end().catch(() => {});
  options.signal?.addEventListener('abort', onAbort, { once: true });
  client.on('error', () => {});
  try {
    try {
      await client.connect();
    } catch (error) {
      throw new Error(`cannot connect to the database ${describeDatabaseUrl(url)}: ${(error as Error).message}`);
    }
    return await fn(client);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => {});
  }
}

/** `host:port/dbname` — enough to say which database, without user or password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return '(unparsable database URL)';
  }
}
