/**
 * Migration drift facts of a live database (SPEC §2.4, §4 "drift", seed 001): the
 * applied ledger against the contract's migration set, the latest migration execution,
 * and which build last migrated. Each `find*` function names every difference for one
 * invariant, so the drift lane can run one check per invariant.
 */
import type pg from 'pg';
import { type ContractMigration, loadContractMigrations } from '../../contracts/contract-files.ts';

/** Anything with `query` (a pg Pool or Client). */
export type Queryable = Pick<pg.Pool, 'query'>;

export interface AppliedMigration {
  version: string;
  checksum: string;
  applied_at: Date;
  applied_by_build_sha: string;
  execution_id: string;
}

export interface MigrationExecution {
  execution_id: string;
  build_sha: string;
  started_at: Date;
  finished_at: Date | null;
  status: string;
  error: string | null;
}

export interface MigrationLedger {
  /** False when runtime.schema_migrations does not exist: nothing was ever migrated. */
  present: boolean;
  applied: AppliedMigration[];
  /** The most recent execution (by started_at), whatever its status; null when none. */
  latestExecution: MigrationExecution | null;
}

/** Reads runtime.schema_migrations and the latest runtime.migration_executions row. */
export async function readMigrationLedger(db: Queryable): Promise<MigrationLedger> {
  const { rows: exists } = await db.query<{ ledger: boolean; executions: boolean }>(
    `SELECT to_regclass('runtime.schema_migrations') IS NOT NULL AS ledger,
            to_regclass('runtime.migration_executions') IS NOT NULL AS executions`,
  );
  if (!exists[0]?.ledger) return { present: false, applied: [], latestExecution: null };
  const { rows: applied } = await db.query<AppliedMigration>(
    'SELECT version, checksum, applied_at, applied_by_build_sha, execution_id FROM runtime.schema_migrations ORDER BY version',
  );
  let latestExecution: MigrationExecution | null = null;
  if (exists[0].executions) {
    const { rows } = await db.query<MigrationExecution>(
      `SELECT execution_id, build_sha, started_at, finished_at, status, error FROM runtime.migration_executions
        ORDER BY started_at DESC, execution_id DESC LIMIT 1`,
    );
    latestExecution = rows[0] ?? null;
  }
  return { present: true, applied, latestExecution };
}

/** Contract migrations with no ledger row, e.g. `0003_khala_sync_revocations: not applied`. */
export function findMissingMigrations(ledger: MigrationLedger, contract: ContractMigration[] = loadContractMigrations()): string[] {
  if (!ledger.present) return ['runtime.schema_migrations does not exist: no migration was ever applied'];
  const applied = new Set(ledger.applied.map((m) => m.version));
  return contract.filter((m) => !applied.has(m.version)).map((m) => `${m.version}: not applied`);
}

/** Ledger rows this build's contract does not contain (a newer build migrated, or a hand-made row). */
export function findUnknownMigrations(ledger: MigrationLedger, contract: ContractMigration[] = loadContractMigrations()): string[] {
  const known = new Set(contract.map((m) => m.version));
  return ledger.applied
    .filter((m) => !known.has(m.version))
    .map((m) => `${m.version}: applied (by build ${m.applied_by_build_sha}) but not in contracts/migrations`);
}

/** Applied migrations whose recorded checksum differs from the contract file's sha256. */
export function findChecksumMismatches(ledger: MigrationLedger, contract: ContractMigration[] = loadContractMigrations()): string[] {
  const applied = new Map(ledger.applied.map((m) => [m.version, m]));
  const differences: string[] = [];
  for (const migration of contract) {
    const row = applied.get(migration.version);
    if (row && row.checksum !== migration.checksum) {
      differences.push(`${migration.version}: applied with checksum ${row.checksum}, the contract file has ${migration.checksum} (edited after it was applied)`);
    }
  }
  return differences;
}

/** Why the latest execution is not a success, or [] when it succeeded. */
export function findLatestExecutionProblems(ledger: MigrationLedger): string[] {
  const execution = ledger.latestExecution;
  if (!execution) return ['runtime.migration_executions has no execution: the migrate job never ran against this database'];
  if (execution.status === 'succeeded') return [];
  const when = execution.started_at.toISOString();
  if (execution.status === 'running') {
    return [`latest execution ${execution.execution_id} (build ${execution.build_sha}, started ${when}) is still running or its runner died`];
  }
  return [`latest execution ${execution.execution_id} (build ${execution.build_sha}, started ${when}) ${execution.status}${execution.error ? `: ${execution.error}` : ''}`];
}

/**
 * The image-lock invariant of seed 001: the build that last ran the migrate job is the
 * build that is serving (and the one the gate expects, when given).
 */
export function findBuildShaMismatches(ledger: MigrationLedger, running: string | null | undefined, expected?: string): string[] {
  const execution = ledger.latestExecution;
  if (!execution) return ['no migration execution recorded, so no build is known to have migrated this database'];
  const differences: string[] = [];
  if (typeof running !== 'string') differences.push(`the target did not report its running build_sha (GET /internal/v1/health); last migrated by build ${execution.build_sha}`);
  else if (execution.build_sha !== running) {
    differences.push(`last migrated by build ${execution.build_sha} (execution ${execution.execution_id}), but the running build_sha is ${running}`);
  }
  if (expected !== undefined && execution.build_sha !== expected) {
    differences.push(`last migrated by build ${execution.build_sha}, but expected_build_sha is ${expected}`);
  }
  return differences;
}
