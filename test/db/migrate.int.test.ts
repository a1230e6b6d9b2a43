import { afterEach, describe, expect, it } from 'vitest';
import { type ContractMigration, contractPaths, loadContractMigrations, readJsonContract, sha256Hex } from '../../contracts/contract-files.ts';
import { MigrationError, migrate } from '../../reference-server/db/migrate.ts';
import { readLedgerState } from '../../reference-server/db/migration-ledger.ts';
import { diffSchemaSnapshots, readSchemaSnapshot, type SchemaSnapshot } from '../../reference-server/db/schema-snapshot.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const opened: TestDatabase[] = [];
async function freshDatabase(label: string, poolMax = 10): Promise<TestDatabase> {
  const db = await createTestDatabase(label, poolMax);
  opened.push(db);
  return db;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.drop()));
});

const contract = loadContractMigrations();
function edited(migration: ContractMigration, sql: string): ContractMigration {
  return { ...migration, sql, checksum: sha256Hex(sql) };
}

async function executions(db: TestDatabase) {
  const { rows } = await db.pool.query<{ status: string; build_sha: string; error: string | null }>(
    'SELECT status, build_sha, error FROM runtime.migration_executions ORDER BY started_at, execution_id',
  );
  return rows;
}

describe('migrate', () => {
  it('applies every contract migration once, records checksum, build sha and execution, then is a no-op', async () => {
    const db = await freshDatabase('migrate_fresh');
    const first = await migrate(db.pool, { buildSha: 'abc1234' });
    expect(first.applied).toEqual(contract.map((m) => m.version));
    const { rows } = await db.pool.query('SELECT version, checksum, applied_by_build_sha, execution_id FROM runtime.schema_migrations ORDER BY version');
    expect(rows).toEqual(contract.map((m) => ({ version: m.version, checksum: m.checksum, applied_by_build_sha: 'abc1234', execution_id: first.executionId })));

    const second = await migrate(db.pool, { buildSha: 'def5678' });
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(contract.map((m) => m.version));
    expect((await executions(db)).map((e) => [e.status, e.build_sha])).toEqual([
      ['succeeded', 'abc1234'],
      ['succeeded', 'def5678'],
    ]);
    expect(await readLedgerState(db.pool)).toEqual({ reasons: [], schemaVersion: contract.at(-1)!.version });
  });

  it('refuses when an applied migration was edited afterwards, and records the failed execution', async () => {
    const db = await freshDatabase('migrate_checksum');
    await migrate(db.pool, { buildSha: 'abc1234' });
    const tampered = [edited(contract[0]!, `${contract[0]!.sql}\n-- edited after release\n`), ...contract.slice(1)];
    const failure = await migrate(db.pool, { buildSha: 'abc1234', migrations: tampered }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).code).toBe('migration_checksum_mismatch');
    expect((failure as MigrationError).message).toContain(contract[0]!.version);
    const last = (await executions(db)).at(-1)!;
    expect(last.status).toBe('failed');
    expect(last.error).toContain('checksum');
    expect((await readLedgerState(db.pool, tampered)).reasons).toContain(`migration_checksum_mismatch:${contract[0]!.version}`);
  });

  it('refuses a database that has a migration this build does not know', async () => {
    const db = await freshDatabase('migrate_unknown');
    const newer = [...contract, { version: '9999_from_a_newer_build', sql: 'CREATE TABLE runtime.newer (id int)', checksum: sha256Hex('x') }];
    await migrate(db.pool, { buildSha: 'newer00', migrations: newer });
    const failure = await migrate(db.pool, { buildSha: 'older00' }).catch((e: unknown) => e);
    expect((failure as MigrationError).code).toBe('migration_unknown_version');
    expect((await readLedgerState(db.pool)).reasons).toEqual(['migration_unknown:9999_from_a_newer_build', 'migration_execution_failed']);
  });

  it('rolls back a failing migration, keeps the earlier ones, and records the failure', async () => {
    const db = await freshDatabase('migrate_failing');
    const broken = [...contract, { version: '9998_broken', sql: 'CREATE TABLE runtime.half_done (id int); SELECT 1/0;', checksum: sha256Hex('broken') }];
    const failure = await migrate(db.pool, { buildSha: 'abc1234', migrations: broken }).catch((e: unknown) => e);
    expect((failure as MigrationError).code).toBe('migration_failed');
    expect((failure as MigrationError).version).toBe('9998_broken');
    const { rows } = await db.pool.query(`SELECT to_regclass('runtime.half_done') AS t`);
    expect(rows[0].t).toBeNull();
    const state = await readLedgerState(db.pool, broken);
    expect(state.reasons).toEqual(['migration_missing:9998_broken', 'migration_execution_failed']);
    expect((await executions(db)).at(-1)!.error).toContain('division by zero');
  });

  it('applies each migration exactly once when four runners race on an empty database', async () => {
    const db = await freshDatabase('migrate_race', 8);
    const results = await Promise.all([1, 2, 3, 4].map((n) => migrate(db.pool, { buildSha: `race${n}00` })));
    const appliedCounts = contract.map((m) => results.filter((r) => r.applied.includes(m.version)).length);
    expect(appliedCounts).toEqual(contract.map(() => 1));
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM runtime.schema_migrations');
    expect(rows[0].n).toBe(contract.length);
    expect((await executions(db)).every((e) => e.status === 'succeeded')).toBe(true);
  });

  it('produces exactly the committed schema snapshot, and the snapshot diff names a dropped column and an added index', async () => {
    const db = await freshDatabase('migrate_snapshot');
    await migrate(db.pool, { buildSha: 'abc1234' });
    const expected = readJsonContract<SchemaSnapshot>(contractPaths.schemaSnapshot);
    const live = await readSchemaSnapshot(db.pool);
    expect(diffSchemaSnapshots(expected, live)).toEqual([]);
    await db.pool.query('ALTER TABLE runtime.runs DROP COLUMN metadata');
    await db.pool.query('CREATE INDEX hand_added_idx ON runtime.run_events (event_type)');
    expect(diffSchemaSnapshots(expected, await readSchemaSnapshot(db.pool))).toEqual([
      'runtime.run_events: unexpected index hand_added_idx',
      'runtime.runs.metadata: column missing',
    ]);
  });
});
