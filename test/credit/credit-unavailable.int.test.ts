/**
 * The 500 and 503 answers the contract documents for the six credit operations, each
 * produced by a real condition rather than a mock:
 * - 500 internal_error: a database whose migration job never applied 0002_credit (the
 *   seed-001 incident: the credit tables do not exist);
 * - 503 write_path_frozen: RUNTIME_AUTHORITY_WRITE_MODE read_only / shadow_only;
 * - 503 dependency_unavailable: PostgreSQL goes away (a proxy in front of it is cut).
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContractMigrations } from '../../contracts/contract-files.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { createPool } from '../../reference-server/db/pool.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { CREDIT, hex64, intentBody, offerBody, settleBody } from './credit-fixtures.ts';

const WRITES: Array<[string, () => Record<string, unknown>]> = [
  ['intent', () => intentBody()],
  ['offer', () => offerBody()],
  ['envelope', () => ({ schema: 'openagents.credit.envelope_request.v1', offer_id: `cepo_${'a'.repeat(24)}`, provider_id: hex64() })],
  ['settle', () => settleBody(`cepe_${'a'.repeat(24)}`)],
];
const READS = [`${CREDIT}/health`, `${CREDIT}/agents/${'b'.repeat(64)}/exposure`];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('credit_unavailable', 10);
  await migrate(db.pool, { buildSha: 'dev' });
});
afterAll(async () => {
  await db?.drop();
});

/**
 * A TCP proxy in front of the test PostgreSQL that can be cut: after cut(), open
 * connections are reset and new ones are refused, as when the database host goes away.
 */
async function cuttableProxy(target: URL) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

describe('credit operations when the runtime cannot serve them', () => {
  it('500 internal_error on every credit operation when the credit migration was never applied', async () => {
    const stale = await createTestDatabase('credit_no_0002', 5);
    await migrate(stale.pool, { buildSha: 'dev', migrations: loadContractMigrations().filter((m) => m.version < '0002') });
    const t = await startTestServer(stale);
    try {
      for (const [op, body] of WRITES) {
        const response = await t.api.call('POST', `${CREDIT}/${op}`, { body: body() });
        expect(response.status, op).toBe(500);
        expect(response.body.error.code).toBe('internal_error');
      }
      for (const path of READS) {
        const response = await t.api.call('GET', path);
        expect(response.status, path).toBe(500);
        expect(response.body.error.code).toBe('internal_error');
      }
      expect((await t.api.call('GET', '/readyz', { token: null })).body.reasons).toContain('migration_missing:0002_credit');
    } finally {
      await t.close();
      await stale.drop();
    }
  });

  it('503 write_path_frozen on every credit write in read_only and shadow_only; reads still answer', async () => {
    for (const mode of ['read_only', 'shadow_only']) {
      const t: TestServer = await startTestServer(db, { RUNTIME_AUTHORITY_WRITE_MODE: mode });
      try {
        for (const [op, body] of WRITES) {
          const response = await t.api.call('POST', `${CREDIT}/${op}`, { body: body() });
          expect(response.status, `${mode} ${op}`).toBe(503);
          expect(response.body.error).toMatchObject({ code: 'write_path_frozen', details: { authority_write_mode: mode } });
        }
        for (const path of READS) expect((await t.api.call('GET', path)).status, `${mode} ${path}`).toBe(200);
      } finally {
        await t.close();
      }
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM runtime.credit_intents');
      expect(rows[0].n).toBe(0);
    }
  });

  it('503 dependency_unavailable on every credit operation when PostgreSQL goes away', async () => {
    const proxy = await cuttableProxy(new URL(db.url));
    const pool = createPool(proxy.url, { max: 2 });
    const t = await startTestServer({ name: db.name, url: proxy.url, pool, drop: () => pool.end() });
    try {
      expect((await t.api.call('GET', `${CREDIT}/health`)).status).toBe(200);
      await proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const [op, body] of WRITES) {
        const response = await t.api.call('POST', `${CREDIT}/${op}`, { body: body() });
        expect(response.status, op).toBe(503);
        expect(response.body.error.code).toBe('dependency_unavailable');
      }
      for (const path of READS) {
        const response = await t.api.call('GET', path);
        expect(response.status, path).toBe(503);
        expect(response.body.error.code).toBe('dependency_unavailable');
      }
    } finally {
      await t.close();
      await pool.end();
    }
  });
});
