import { describe, expect, it } from 'vitest';
import { computeConfigFingerprint, loadRuntimeEnv, runtimeEnvSchema } from '../../reference-server/config/runtime-env.ts';

const PROD_REQUIRED = [
  'RUNTIME_BIND_ADDR', 'RUNTIME_BUILD_SHA', 'RUNTIME_INSTANCE_ID', 'RUNTIME_AUTHORITY_WRITE_MODE', 'DATABASE_URL', 'RUNTIME_DATA_DIR',
  'RUNTIME_INTERNAL_TOKEN', 'RUNTIME_SYNC_TOKEN_SIGNING_KEY', 'RUNTIME_SYNC_TOKEN_ISSUER', 'RUNTIME_SYNC_TOKEN_AUDIENCE', 'ENABLE_AUDIT_LOGGING', 'LOG_LEVEL',
];

const validProd = {
  RUNTIME_ENV: 'prod',
  RUNTIME_BIND_ADDR: '0.0.0.0:8080',
  RUNTIME_BUILD_SHA: 'a1b2c3d4e5f6',
  RUNTIME_INSTANCE_ID: 'runtime-prod-1',
  RUNTIME_AUTHORITY_WRITE_MODE: 'rust_active',
  DATABASE_URL: 'postgres://runtime:s3cret-password@db.internal:5432/runtime_prod',
  RUNTIME_DATA_DIR: '/var/lib/runtime/prod',
  RUNTIME_INTERNAL_TOKEN: 'prod-internal-token-0123456789abcdef0123',
  RUNTIME_SYNC_TOKEN_SIGNING_KEY: 'prod-signing-key-0123456789abcdef0123456',
  RUNTIME_SYNC_TOKEN_ISSUER: 'https://openagents.com',
  RUNTIME_SYNC_TOKEN_AUDIENCE: 'openagents-sync',
  ENABLE_AUDIT_LOGGING: 'true',
  LOG_LEVEL: 'info',
};

describe('runtime environment', () => {
  it('runs with no environment at all as dev, with documented defaults for everything', () => {
    const env = loadRuntimeEnv({});
    expect(env.violations).toEqual([]);
    expect(env.profile).toBe('dev');
    expect(env.profileInferred).toBe(true);
    expect(env.values).toMatchObject({ RUNTIME_BIND_ADDR: '127.0.0.1:4100', RUNTIME_BUILD_SHA: 'dev', RUNTIME_AUTHORITY_WRITE_MODE: 'rust_active', RUNTIME_DATA_DIR: '.runtime-gate/' });
    expect(env.values.DATABASE_URL).toBeUndefined();
  });

  it('names every required variable when prod is given nothing else, and infers nothing', () => {
    const env = loadRuntimeEnv({ RUNTIME_ENV: 'prod' });
    const missing = env.violations.filter((v) => v.rule.startsWith('required')).map((v) => v.variable);
    expect(missing.sort()).toEqual([...PROD_REQUIRED].sort());
    expect(runtimeEnvSchema['x-prod-required'].sort()).toEqual([...PROD_REQUIRED].sort());
  });

  it('accepts a complete prod environment and rejects the dev secrets and a dev build sha in prod', () => {
    expect(loadRuntimeEnv(validProd).violations).toEqual([]);
    const env = loadRuntimeEnv({
      ...validProd,
      RUNTIME_BUILD_SHA: 'dev',
      RUNTIME_INTERNAL_TOKEN: String(runtimeEnvSchema.properties.RUNTIME_INTERNAL_TOKEN!['x-dev-default']),
    });
    expect(env.violations.map((v) => v.variable).sort()).toEqual(['RUNTIME_BUILD_SHA', 'RUNTIME_INTERNAL_TOKEN']);
  });

  it.each([
    ['DATABASE_URL', 'mysql://x', 'format'],
    ['RUNTIME_AUTHORITY_WRITE_MODE', 'active', 'one of'],
    ['RUNTIME_INTERNAL_TOKEN', 'short', 'at least 32'],
    ['RUNTIME_KHALA_HEARTBEAT_MS', 'soon', 'format'],
    ['RUNTIME_KHALA_HEARTBEAT_MS', '5', 'minimum'],
    ['ENABLE_AUDIT_LOGGING', 'yes', 'one of'],
  ])('rejects %s=%s (%s)', (variable, value, rule) => {
    const env = loadRuntimeEnv({ ...validProd, [variable]: value });
    expect(env.violations.find((v) => v.variable === variable)?.rule).toContain(rule);
  });

  it('reports every violation at once, never a secret value', () => {
    const env = loadRuntimeEnv({ ...validProd, RUNTIME_INTERNAL_TOKEN: 'tiny-secret', DATABASE_URL: 'mysql://user:hunter2@x/y', LOG_LEVEL: 'loud' });
    expect(env.violations.map((v) => v.variable).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'RUNTIME_INTERNAL_TOKEN']);
    const text = JSON.stringify(env.violations);
    expect(text).not.toContain('tiny-secret');
    expect(text).not.toContain('hunter2');
  });

  it('rejects unknown RUNTIME_* variables with a suggestion, and ignores RUNTIME_GATE_* and other variables', () => {
    const env = loadRuntimeEnv({ RUNTIME_BULD_SHA: 'abc', RUNTIME_GATE_TARGET_URL: 'http://x', HOME: '/root' });
    expect(env.violations).toEqual([{ variable: 'RUNTIME_BULD_SHA', rule: 'unknown variable', hint: expect.stringContaining('did you mean RUNTIME_BUILD_SHA?') }]);
  });

  it('fingerprints only non-secret environment-owned values, independent of key order', () => {
    const a = computeConfigFingerprint({ LOG_LEVEL: 'info', RUNTIME_INSTANCE_ID: 'x' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(computeConfigFingerprint({ RUNTIME_INSTANCE_ID: 'x', LOG_LEVEL: 'info' })).toBe(a);
    expect(computeConfigFingerprint({ LOG_LEVEL: 'info', RUNTIME_INSTANCE_ID: 'x', RUNTIME_SYNC_TOKEN_SIGNING_KEY: 'k'.repeat(40), RUNTIME_BUILD_SHA: 'abcdef1' })).toBe(a);
    expect(computeConfigFingerprint({ LOG_LEVEL: 'debug', RUNTIME_INSTANCE_ID: 'x' })).not.toBe(a);
  });
});
