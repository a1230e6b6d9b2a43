import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractPaths, loadContractMigrations, sha256Hex } from '../../contracts/contract-files.ts';
import { computeConfigFingerprint } from '../../reference-server/config/runtime-env.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const migrations = loadContractMigrations();
const dbs: TestDatabase[] = [];
let migrated: TestServer;
beforeAll(async () => {
  const db = await createTestDatabase('health');
  dbs.push(db);
  await migrate(db.pool, { buildSha: 'abc1234' });
  migrated = await startTestServer(db, { RUNTIME_BUILD_SHA: 'abc1234' });
});
afterAll(async () => {
  await migrated?.close();
  await Promise.all(dbs.map((db) => db.drop()));
});

describe('health and readiness', () => {
  it('/healthz reports service, build sha and write mode without auth', async () => {
    const response = await migrated.api.call('GET', '/healthz', { token: null });
    expect(response.body).toEqual({ status: 'ok', service: 'runtime', build_sha: 'abc1234', authority_write_mode: 'rust_active' });
  });

  it('/readyz is 200 with the schema version when the ledger equals the contract', async () => {
    const response = await migrated.api.call('GET', '/readyz', { token: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', schema_version: migrations.at(-1)!.version });
  });

  it('/readyz is 503 naming the missing migration when the migrate job never ran it (seed 001 incident)', async () => {
    const db = await createTestDatabase('health_missing');
    dbs.push(db);
    // The migrate job ran with an older image: only the ledger exists, the contract's tables were never created.
    await migrate(db.pool, { buildSha: 'old0000', migrations: [] });
    const stale = await startTestServer(db);
    try {
      const response = await stale.api.call('GET', '/readyz', { token: null });
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ status: 'not_ready', reasons: migrations.map((m) => `migration_missing:${m.version}`) });
      const health = await stale.api.call('GET', '/internal/v1/health');
      expect(health.body).toMatchObject({ status: 'degraded', schema_version: null });
    } finally {
      await stale.close();
    }
  });

  it('/readyz is 503 with the checksum reason when an applied migration differs from the contract', async () => {
    const db = await createTestDatabase('health_checksum');
    dbs.push(db);
    await migrate(db.pool, { buildSha: 'abc1234' });
    await db.pool.query(`UPDATE runtime.schema_migrations SET checksum = $1 WHERE version = $2`, [sha256Hex('other'), migrations[0]!.version]);
    const server = await startTestServer(db);
    try {
      const response = await server.api.call('GET', '/readyz', { token: null });
      expect(response.body.reasons).toEqual([`migration_checksum_mismatch:${migrations[0]!.version}`]);
    } finally {
      await server.close();
    }
  });

  it('/readyz is 503 database_unavailable when the database does not answer', async () => {
    const db = await createTestDatabase('health_down');
    dbs.push(db);
    const server = await startTestServer(db);
    try {
      await db.pool.end();
      const response = await server.api.call('GET', '/readyz', { token: null });
      expect(response.status).toBe(503);
      expect(response.body.reasons).toEqual(['database_unavailable']);
    } finally {
      await server.close();
    }
  });

  it('/internal/v1/health reports the config fingerprint of the non-secret environment-owned values', async () => {
    const response = await migrated.api.call('GET', '/internal/v1/health');
    expect(response.body).toMatchObject({
      status: 'ok',
      build_sha: 'abc1234',
      schema_version: migrations.at(-1)!.version,
      payment_backend: 'simulated',
    });
    expect(response.body.config_fingerprint).toBe(migrated.config.configFingerprint);
    // Secrets are not part of the fingerprint: changing the token leaves it unchanged.
    const base = { DATABASE_URL: 'postgres://a@b/c', RUNTIME_INTERNAL_TOKEN: 'x'.repeat(40) };
    expect(computeConfigFingerprint(base)).toBe(computeConfigFingerprint({ ...base, RUNTIME_INTERNAL_TOKEN: 'y'.repeat(40) }));
    expect(computeConfigFingerprint(base)).not.toBe(computeConfigFingerprint({ ...base, LOG_LEVEL: 'debug' }));
  });

  it('serves exactly the bundled contracts/runtime.openapi.yaml at /internal/v1/openapi.json', async () => {
    const response = await migrated.api.call('GET', '/internal/v1/openapi.json');
    const local = await SwaggerParser.bundle(contractPaths.openapi);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(local)));
  });

  it('exposes runtime_http_requests_total by route and status on /metrics', async () => {
    await migrated.api.call('GET', '/healthz', { token: null });
    const response = await migrated.api.call('GET', '/metrics', { token: null });
    expect(response.text).toMatch(/runtime_http_requests_total\{route="\/healthz",status="200"\} [1-9]/);
  });
});
