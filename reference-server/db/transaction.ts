import type { Pool, PoolClient } from 'pg';

/** Runs fn in one transaction on one pooled connection; rolls back on any throw. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    failure = error;
    throw error;
  } finally {
    // A connection the database dropped is destroyed, not handed to the next request.
    client.release(isDatabaseUnavailable(failure) ? (failure as Error) : undefined);
  }
}

/** True for errors that mean the database is unreachable rather than the request being wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  if (typeof code === 'string') return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE';
  // pg reports a connection cut mid-query (e.g. a PostgreSQL restart) without a SQLSTATE.
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /^Connection terminated|^Client has encountered a connection error|timeout exceeded when trying to connect/.test(message);
}
