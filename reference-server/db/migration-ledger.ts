/**
 * Compares the applied migration ledger with the contract's migration set.
 * Used by /readyz (SPEC §2.1) and by the drift lane (SPEC §4 "drift").
 */
import type { Pool } from 'pg';
import { type ContractMigration, loadContractMigrations } from '../../contracts/contract-files.ts';

export interface LedgerState {
  /** Reasons the ledger does not equal the contract, as `/readyz` reports them; empty when it does. */
  reasons: string[];
  /** Latest applied version (the schema version), or null when nothing is applied. */
  schemaVersion: string | null;
}

/** Reads the ledger; a missing ledger table means nothing was ever applied. */
export async function readLedgerState(
  pool: Pool,
  migrations: ContractMigration[] = loadContractMigrations(),
): Promise<LedgerState> {
  const { rows: exists } = await pool.query<{ present: boolean }>(
    `SELECT to_regclass('runtime.schema_migrations') IS NOT NULL AS present`,
  );
  const applied = new Map<string, string>();
  let latestExecutionFailed = false;
  if (exists[0]?.present) {
    const { rows } = await pool.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM runtime.schema_migrations ORDER BY version',
    );
    for (const row of rows) applied.set(row.version, row.checksum);
    const { rows: executions } = await pool.query<{ status: string }>(
      `SELECT status FROM runtime.migration_executions WHERE status <> 'running' ORDER BY started_at DESC, execution_id DESC LIMIT 1`,
    );
    latestExecutionFailed = executions[0]?.status === 'failed';
  }
  const reasons: string[] = [];
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum === undefined) reasons.push(`migration_missing:${migration.version}`);
    else if (checksum !== migration.checksum) reasons.push(`migration_checksum_mismatch:${migration.version}`);
  }
  const known = new Set(migrations.map((m) => m.version));
  for (const version of applied.keys()) {
    if (!known.has(version)) reasons.push(`migration_unknown:${version}`);
  }
  if (latestExecutionFailed) reasons.push('migration_execution_failed');
  const versions = [...applied.keys()].sort();
  return { reasons, schemaVersion: versions.at(-1) ?? null };
}
