/**
 * Paths to, and loaders for, the contract files: the single source of truth that
 * the reference server implements and the harness checks (SPEC §2).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTRACTS_DIR = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_ROOT = dirname(CONTRACTS_DIR);

export const contractPaths = {
  openapi: join(CONTRACTS_DIR, 'runtime.openapi.yaml'),
  asyncapi: join(CONTRACTS_DIR, 'khala.asyncapi.yaml'),
  khalaOrdering: join(CONTRACTS_DIR, 'KHALA_ORDERING.md'),
  runtimeEnvSchema: join(CONTRACTS_DIR, 'runtime-env.schema.json'),
  dbRoles: join(CONTRACTS_DIR, 'db-roles.json'),
  dbRolesSchema: join(CONTRACTS_DIR, 'db-roles.schema.json'),
  reportSchema: join(CONTRACTS_DIR, 'report.schema.json'),
  gateConfigSchema: join(CONTRACTS_DIR, 'gate-config.schema.json'),
  parityPolicy: join(CONTRACTS_DIR, 'parity-policy.json'),
  parityPolicySchema: join(CONTRACTS_DIR, 'parity-policy.schema.json'),
  parityReportSchema: join(CONTRACTS_DIR, 'parity-report.schema.json'),
  migrationsDir: join(CONTRACTS_DIR, 'migrations'),
  generatedDir: join(CONTRACTS_DIR, 'generated'),
  schemaSnapshot: join(CONTRACTS_DIR, 'generated', 'schema-snapshot.json'),
} as const;

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One forward-only migration of contracts/migrations (SPEC §2.4). */
export interface ContractMigration {
  /** File name without `.sql`, e.g. `0001_runtime_sync_bootstrap`. */
  version: string;
  /** Lowercase hex sha256 of the file's raw bytes. */
  checksum: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** Reads the contract's migration set in version order. */
export function loadContractMigrations(dir: string = contractPaths.migrationsDir): ContractMigration[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  return files.map((name) => {
    if (!MIGRATION_FILE.test(name)) {
      throw new Error(`${join(dir, name)}: migration file names must match NNNN_snake_case.sql`);
    }
    const raw = readFileSync(join(dir, name));
    return { version: name.slice(0, -'.sql'.length), checksum: sha256Hex(raw), sql: raw.toString('utf8') };
  });
}

export function readJsonContract<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
