/**
 * The migration runner behind `runtime-gate migrate` and `migrate(pool)` (SPEC §2.4).
 *
 * One runner at a time holds a session advisory lock; each pending migration is
 * applied in its own transaction together with its ledger row; every run, no-op
 * or failed, is recorded in runtime.migration_executions so the drift lane can
 * tell which build last migrated and whether it succeeded.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { type ContractMigration, loadContractMigrations } from '../../contracts/contract-files.ts';

/** Arbitrary but fixed advisory lock key ("rg" + "migr") shared by every runner. */
export const MIGRATION_LOCK_KEY = [0x7267, 0x6d696772] as const;

const LEDGER_DDL = `
CREATE SCHEMA IF NOT EXISTS runtime;
CREATE TABLE IF NOT EXISTS runtime.migration_executions (
  execution_id  text PRIMARY KEY,
  build_sha     text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  error         text
);
CREATE TABLE IF NOT EXISTS runtime.schema_migrations (
  version               text PRIMARY KEY,
  checksum              text NOT NULL,
  applied_at            timestamptz NOT NULL DEFAULT now(),
  applied_by_build_sha  text NOT NULL,
  execution_id          text NOT NULL REFERENCES runtime.migration_executions (execution_id)
);`;

export interface MigrateOptions {
  /** Build sha recorded in the ledger (the image-lock invariant of seed 001). */
  buildSha: string;
  /** Defaults to the package's contracts/migrations. */
  migrations?: ContractMigration[];
  /** Give up waiting for another runner's lock after this long (default 60 s). */
  lockTimeoutMs?: number;
  log?: (fields: Record<string, unknown>, message: string) => void;
}

export interface MigrateResult {
  executionId: string;
  applied: string[];
  alreadyApplied: string[];
}

export type MigrationErrorCode =
  | 'migration_checksum_mismatch'
  | 'migration_unknown_version'
  | 'migration_failed'
  | 'migration_lock_timeout';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    readonly version?: string,
  ) {
    super(message);
  }
}

/** Applies every pending contract migration; a no-op (but still recorded) when all are applied. */
export async function migrate(pool: Pool, options: MigrateOptions): Promise<MigrateResult> {
  const migrations = options.migrations ?? loadContractMigrations();
  const log = options.log ?? (() => {});
  const client = await pool.connect();
  try {
    await acquireMigrationLock(client, options.lockTimeoutMs ?? 60_000);
    try {
      await client.query(LEDGER_DDL);
      const executionId = `mex_${randomUUID()}`;
      await client.query(
        `INSERT INTO runtime.migration_executions (execution_id, build_sha, status) VALUES ($1, $2, 'running')`,
        [executionId, options.buildSha],
      );
      try {
        const result = await applyPending(client, migrations, executionId, options.buildSha, log);
        await client.query(
          `UPDATE runtime.migration_executions SET status = 'succeeded', finished_at = now() WHERE execution_id = $1`,
          [executionId],
        );
        return result;
      } catch (error) {
        await client.query(
          `UPDATE runtime.migration_executions SET status = 'failed', finished_at = now(), error = $2 WHERE execution_id = $1`,
          [executionId, error instanceof Error ? error.message : String(error)],
        );
        throw error;
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

async function acquireMigrationLock(client: PoolClient, timeoutMs: number): Promise<void> {
  // lock_timeout bounds the wait so a stuck runner cannot hang a deploy forever.
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${timeoutMs}ms`]);
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') {
      throw new MigrationError(
        'migration_lock_timeout',
        `another migration runner held the advisory lock for more than ${timeoutMs} ms`,
      );
    }
    throw error;
  } finally {
    await client.query(`SELECT set_config('lock_timeout', '0', false)`);
  }
}

async function applyPending(
  client: PoolClient,
  migrations: ContractMigration[],
  executionId: string,
  buildSha: string,
  log: NonNullable<MigrateOptions['log']>,
): Promise<MigrateResult> {
  const { rows } = await client.query<{ version: string; checksum: string }>(
    'SELECT version, checksum FROM runtime.schema_migrations ORDER BY version',
  );
  const applied = new Map(rows.map((row) => [row.version, row.checksum]));
  const known = new Set(migrations.map((m) => m.version));
  for (const version of applied.keys()) {
    if (!known.has(version)) {
      throw new MigrationError(
        'migration_unknown_version',
        `database has migration ${version} applied, which this build's contracts/migrations does not contain; refusing to migrate with an older build`,
        version,
      );
    }
  }
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined && checksum !== migration.checksum) {
      throw new MigrationError(
        'migration_checksum_mismatch',
        `migration ${migration.version} was applied with checksum ${checksum} but the file now has ${migration.checksum}; applied migrations must never be edited (add a new migration instead)`,
        migration.version,
      );
    }
  }

  const result: MigrateResult = { executionId, applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    if (applied.has(migration.version)) {
      result.alreadyApplied.push(migration.version);
      continue;
    }
    await client.query('BEGIN');
    try {
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO runtime.schema_migrations (version, checksum, applied_by_build_sha, execution_id) VALUES ($1, $2, $3, $4)`,
        [migration.version, migration.checksum, buildSha, executionId],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw new MigrationError(
        'migration_failed',
        `migration ${migration.version} failed and was rolled back: ${error instanceof Error ? error.message : String(error)}`,
        migration.version,
      );
    }
    result.applied.push(migration.version);
    log({ version: migration.version, execution_id: executionId }, 'migration applied');
  }
  return result;
}
