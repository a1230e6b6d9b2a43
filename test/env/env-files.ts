/**
 * Env files for the env tests: a valid prod and a valid dev file that share nothing,
 * written to a temporary folder, with per-test overrides (`undefined` removes a variable).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROD_SECRETS = {
  DATABASE_URL: 'postgres://runtime:prod-db-pw-9d8f7a6b@db-prod.internal:5432/runtime_prod',
  RUNTIME_INTERNAL_TOKEN: 'prod-internal-token-5c1e0b9a7d3f2e6c4b8a0d1e',
  RUNTIME_SYNC_TOKEN_SIGNING_KEY: 'prod-signing-key-3a7f1c9e5b2d8a4f6c0e7b1d9a3f5c2e',
};

export const PROD_ENV: Record<string, string> = {
  RUNTIME_ENV: 'prod',
  RUNTIME_BIND_ADDR: '0.0.0.0:8080',
  RUNTIME_BUILD_SHA: '3f74f77',
  RUNTIME_INSTANCE_ID: 'runtime-prod-1',
  RUNTIME_AUTHORITY_WRITE_MODE: 'rust_active',
  RUNTIME_DATA_DIR: '/var/lib/runtime/prod',
  RUNTIME_SYNC_TOKEN_ISSUER: 'https://openagents.com',
  RUNTIME_SYNC_TOKEN_AUDIENCE: 'openagents-sync',
  ENABLE_AUDIT_LOGGING: 'true',
  LOG_LEVEL: 'info',
  ...PROD_SECRETS,
};

export const DEV_ENV: Record<string, string> = {
  RUNTIME_ENV: 'dev',
  RUNTIME_INSTANCE_ID: 'runtime-dev-1',
  RUNTIME_DATA_DIR: '/var/lib/runtime/dev',
  DATABASE_URL: 'postgres://runtime:dev-db-pw-1a2b3c4d@db-dev.internal:5432/runtime_dev',
  RUNTIME_INTERNAL_TOKEN: 'dev-internal-token-0123456789abcdef0123456789',
  RUNTIME_SYNC_TOKEN_SIGNING_KEY: 'dev-signing-key-0123456789abcdef0123456789abcdef',
  LOG_LEVEL: 'debug',
};

export interface EnvDir {
  write(name: string, values: Record<string, string | undefined>): string;
  remove(): void;
}

export function createEnvDir(): EnvDir {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-env-'));
  return {
    write(name, values) {
      const path = join(dir, name);
      const lines = Object.entries(values)
        .filter((entry): entry is [string, string] => entry[1] !== undefined)
        .map(([k, v]) => `${k}=${v}`);
      writeFileSync(path, `# ${name}\n${lines.join('\n')}\n`);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
