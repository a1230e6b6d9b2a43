/**
 * The drift lane on real databases (SPEC §4 "drift", seed 001): each kind of migration or
 * schema drift makes the run NO-GO and names the difference; a cleanly migrated database
 * passes. The target is a real reference server (build_sha `dev`); each case has a
 * database of its own that the target's db_url points at.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadContractMigrations, sha256Hex } from '../../contracts/contract-files.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from '../harness/gate-fixture.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const contract = loadContractMigrations();
const latest = contract.at(-1)!;

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('drift_lane');
});
afterAll(async () => {
  await fixture?.close();
});

const opened: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.drop()));
});

/** A database migrated by build `dev` (the fixture server's build), then changed by `drift`. */
async function driftedDatabase(label: string, drift: (db: TestDatabase) => Promise<unknown> = async () => {}, buildSha = 'dev'): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  opened.push(db);
  await migrate(db.pool, { buildSha });
  await drift(db);
  return db;
}

async function runDrift(db: TestDatabase, target: Record<string, string> = {}) {
  return fixture.runFaulty([], { lanes: ['drift'], target: { db_url: db.url, ...target } });
}

describe('drift lane', () => {
  it('passes on a database migrated from the contract by the running build', async () => {
    const run = await runDrift(await driftedDatabase('drift_clean'), { expected_build_sha: 'dev' });
    const drift = run.report.checks.filter((c) => c.lane === 'drift');
    for (const check of drift) {
      if (check.check_id.startsWith('drift.deployment.')) {
        expect(check, check.check_id).toMatchObject({ status: 'skipped', required: 'optional', detail: 'missing_input:deployment' });
      } else expect(check.status, `${check.check_id}: ${check.detail}`).toBe('passed');
    }
    expect(drift.filter((c) => c.status === 'passed')).toHaveLength(6);
    expect(run.report.decision).toBe('GO');
    expect(run.exitCode).toBe(0);
  });

  const cases: [string, string, (db: TestDatabase) => Promise<unknown>, RegExp][] = [
    [
      'drift.migrations.all-applied',
      'a missing migration (the ledger lacks the latest contract migration)',
      (db) => db.pool.query('DELETE FROM runtime.schema_migrations WHERE version = $1', [latest.version]),
      new RegExp(`1 contract migration\\(s\\) missing from the ledger: ${latest.version}: not applied`),
    ],
    [
      'drift.migrations.checksums',
      'an edited migration (applied checksum differs from the file)',
      (db) => db.pool.query('UPDATE runtime.schema_migrations SET checksum = $2 WHERE version = $1', [contract[0]!.version, sha256Hex(`${contract[0]!.sql}\n-- hotfix`)]),
      new RegExp(`${contract[0]!.version}: applied with checksum ${sha256Hex(`${contract[0]!.sql}\n-- hotfix`)}, the contract file has ${contract[0]!.checksum}`),
    ],
    [
      'drift.migrations.none-unknown',
      'an unknown extra migration (applied by a newer build)',
      (db) =>
        db.pool.query(
          `INSERT INTO runtime.schema_migrations (version, checksum, applied_by_build_sha, execution_id)
           SELECT '9999_from_a_newer_build', repeat('a', 64), 'fff0000', execution_id FROM runtime.migration_executions LIMIT 1`,
        ),
      /9999_from_a_newer_build: applied \(by build fff0000\) but not in contracts\/migrations/,
    ],
    [
      'drift.executions.latest-succeeded',
      'a failed latest execution',
      (db) => migrate(db.pool, { buildSha: 'dev', migrations: [...contract, { version: '9000_broken', sql: 'SELECT 1 / 0;', checksum: sha256Hex('SELECT 1 / 0;') }] }).catch(() => {}),
      /latest execution mex_\S+ \(build dev, started .*\) failed: migration 9000_broken failed and was rolled back: division by zero/,
    ],
    [
      'drift.schema.snapshot',
      'a dropped column',
      (db) => db.pool.query('ALTER TABLE runtime.runs DROP COLUMN thread_id'),
      /runtime\.runs\.thread_id: column missing/,
    ],
    [
      'drift.schema.snapshot',
      'a hand-added index',
      (db) => db.pool.query('CREATE INDEX hand_added_owner_idx ON runtime.runs (owner)'),
      /runtime\.runs: unexpected index hand_added_owner_idx/,
    ],
  ];

  it.each(cases)('%s fails on %s', async (checkId, name, drift, reason) => {
    const run = await runDrift(await driftedDatabase(`drift_${name.slice(0, 12)}`, drift));
    expectCheckFails(run, checkId, reason);
  });

  it('drift.image-lock.build-sha fails when another build last migrated (image-lock mismatch)', async () => {
    const run = await runDrift(await driftedDatabase('drift_build_sha', async () => {}, 'abc1234'));
    expectCheckFails(run, 'drift.image-lock.build-sha', /last migrated by build abc1234 \(execution mex_\S+\), but the running build_sha is dev/);
  });

  it('drift.image-lock.build-sha fails when the build that migrated is not expected_build_sha', async () => {
    const run = await runDrift(await driftedDatabase('drift_expected_sha'), { expected_build_sha: 'abc1234' });
    expectCheckFails(run, 'drift.image-lock.build-sha', /last migrated by build dev, but expected_build_sha is abc1234/);
  });

  it('names every schema difference at once (type, nullability, constraint, unexpected table)', async () => {
    const db = await driftedDatabase('drift_many', (d) =>
      d.pool.query(`ALTER TABLE runtime.runs ALTER COLUMN owner DROP NOT NULL;
                    ALTER TABLE runtime.runs ALTER COLUMN latest_seq TYPE numeric;
                    CREATE TABLE runtime.scratch (id int)`),
    );
    const run = await runDrift(db);
    const detail = run.check('drift.schema.snapshot').detail;
    // The retyped column also changes the text of its CHECK constraint: both are named.
    expect(detail).toBe(
      [
        '4 schema difference(s) from contracts/generated/schema-snapshot.json: runtime.runs.latest_seq: type numeric, expected bigint',
        'runtime.runs.owner: nullable, expected NOT NULL',
        'runtime.runs: constraint runs_latest_seq_check is "check CHECK (latest_seq >= 0::numeric)", expected "check CHECK (latest_seq >= 0)"',
        'runtime.scratch: unexpected table',
      ].join('; '),
    );
  });

  it('fails (not hangs or passes) on a database with no ledger at all', async () => {
    const db = await createTestDatabase('drift_empty');
    opened.push(db);
    const run = await runDrift(db);
    expectCheckFails(run, 'drift.migrations.all-applied', /runtime\.schema_migrations does not exist/);
    expect(run.check('drift.executions.latest-succeeded').status).toBe('failed');
  });
});
