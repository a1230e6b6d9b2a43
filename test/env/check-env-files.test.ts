/**
 * checkEnvFiles and `runtime-gate env check` (SPEC §2.3, §4 "env", seed 002): every
 * violation of a file for its profile, DEV/PROD shared state, and never a secret's value
 * in any output.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';
import { checkEnvFiles, formatEnvCheck } from '../../harness/env/check-env-files.ts';
import { createEnvDir, DEV_ENV, type EnvDir, PROD_ENV, PROD_SECRETS } from './env-files.ts';

let dir: EnvDir;
afterEach(() => dir?.remove());
function files() {
  dir = createEnvDir();
  return dir;
}

describe('checkEnvFiles', () => {
  it('a valid dev and prod pair that share nothing passes', () => {
    const d = files();
    const result = checkEnvFiles([{ path: d.write('dev.env', DEV_ENV) }, { path: d.write('prod.env', PROD_ENV) }]);
    expect(result.files.map((f) => [f.profile, f.violations])).toEqual([
      ['dev', []],
      ['prod', []],
    ]);
    expect(result).toMatchObject({ ok: true, isolation: [], isolationChecked: true });
  });

  it('reports every violation of an invalid prod file, by variable', () => {
    const d = files();
    const path = d.write('prod.env', { ...PROD_ENV, LOG_LEVEL: undefined, RUNTIME_BUILD_SHA: 'dev', RUNTIME_INTERNAL_TOKEN: 'short', RUNTIME_AUTHORITY_WRITE_MODE: 'active', RUNTIME_WRITE_MODE: 'rust_active' });
    const [file] = checkEnvFiles([{ path }]).files;
    expect(file!.profile).toBe('prod');
    expect(file!.violations.map((v) => `${v.variable}: ${v.rule}`).sort()).toEqual(
      [
        'LOG_LEVEL: required in prod (no default)',
        'RUNTIME_BUILD_SHA: format (prod: 7-40 lowercase hex)',
        'RUNTIME_INTERNAL_TOKEN: at least 32 characters',
        'RUNTIME_AUTHORITY_WRITE_MODE: one of rust_active|shadow_only|read_only',
        'RUNTIME_WRITE_MODE: unknown variable',
      ].sort(),
    );
  });

  it('a file checked as prod that does not say RUNTIME_ENV=prod is a violation (prod is never inferred)', () => {
    const d = files();
    const path = d.write('prod.env', { ...PROD_ENV, RUNTIME_ENV: undefined });
    const [file] = checkEnvFiles([{ path, profile: 'prod' }]).files;
    expect(file!.violations).toEqual([{ variable: 'RUNTIME_ENV', rule: 'must be prod in a prod env file', hint: 'unset means dev: the server never infers prod' }]);
  });

  it('names each piece of state DEV and PROD share: database (other credentials), instance id, nested data dir, keys', () => {
    const d = files();
    const dev = d.write('dev.env', {
      ...DEV_ENV,
      DATABASE_URL: 'postgresql://dev_user:another-pw-77@DB-PROD.internal/runtime_prod',
      RUNTIME_INSTANCE_ID: PROD_ENV.RUNTIME_INSTANCE_ID,
      RUNTIME_DATA_DIR: '/var/lib/runtime',
      RUNTIME_SYNC_TOKEN_SIGNING_KEY: PROD_SECRETS.RUNTIME_SYNC_TOKEN_SIGNING_KEY,
      RUNTIME_INTERNAL_TOKEN: PROD_SECRETS.RUNTIME_INTERNAL_TOKEN,
    });
    const prod = d.write('prod.env', PROD_ENV);
    const result = checkEnvFiles([{ path: dev }, { path: prod }]);
    expect(result.ok).toBe(false);
    expect(result.isolation.map((v) => v.message)).toEqual([
      `DATABASE_URL: dev (${dev}) and prod (${prod}) point at the same database`,
      `RUNTIME_INSTANCE_ID: dev (${dev}) and prod (${prod}) share the instance id runtime-prod-1`,
      `RUNTIME_DATA_DIR: dev (${dev}) and prod (${prod}) share persistence paths (/var/lib/runtime and /var/lib/runtime/prod)`,
      `RUNTIME_INTERNAL_TOKEN: dev (${dev}) and prod (${prod}) use the same value`,
      `RUNTIME_SYNC_TOKEN_SIGNING_KEY: dev (${dev}) and prod (${prod}) use the same value`,
    ]);
  });

  it('does not compare files of one profile with each other', () => {
    const d = files();
    const result = checkEnvFiles([{ path: d.write('a.env', PROD_ENV) }, { path: d.write('b.env', PROD_ENV) }]);
    expect(result).toMatchObject({ ok: true, isolationChecked: false, isolation: [] });
  });

  it('an unreadable file is a violation, not a crash', () => {
    const result = checkEnvFiles([{ path: '/nonexistent/prod.env' }]);
    expect(result.files[0]!.violations).toEqual([{ variable: '(file)', rule: 'unreadable', hint: 'ENOENT' }]);
    expect(result.ok).toBe(false);
  });
});

describe('secrets never appear in output', () => {
  // Secret values that are invalid (so they are reported) and shared (so isolation reports them).
  const weak = {
    RUNTIME_INTERNAL_TOKEN: 'leaky-token-XYZ',
    RUNTIME_SYNC_TOKEN_SIGNING_KEY: 'leaky-key-QRS',
    DATABASE_URL: 'mysql://app:leaky-db-password-UVW@db.shared.internal:3306/runtime',
  };
  const needles = [...Object.values(weak), 'leaky-db-password-UVW', 'leaky-token', 'leaky-key', 'leaky-db'];

  it('in checkEnvFiles results, formatted text and the CLI (text and --json)', () => {
    const d = files();
    const dev = d.write('dev.env', { ...DEV_ENV, ...weak, DATABASE_URL: 'postgres://app:leaky-db-password-UVW@db.shared.internal:3306/runtime' });
    const prod = d.write('prod.env', { ...PROD_ENV, ...weak, DATABASE_URL: 'postgres://app:leaky-db-password-UVW@db.shared.internal:3306/runtime' });
    const bad = d.write('bad.env', { ...PROD_ENV, ...weak });
    const result = checkEnvFiles([{ path: dev }, { path: prod }, { path: bad }]);
    // Every secret is named as violating or shared…
    const named = [...result.files.flatMap((f) => f.violations.map((v) => v.variable)), ...result.isolation.map((v) => v.variable)];
    expect(named).toEqual(expect.arrayContaining(['RUNTIME_INTERNAL_TOKEN', 'RUNTIME_SYNC_TOKEN_SIGNING_KEY', 'DATABASE_URL']));
    // dev is compared with both prod files (bad.env's URL has another scheme but the same host, port and database).
    expect(result.isolation.map((v) => `${v.variable} ${v.prod === prod ? 'prod' : 'bad'}`)).toEqual(['DATABASE_URL prod', 'RUNTIME_INTERNAL_TOKEN prod', 'RUNTIME_SYNC_TOKEN_SIGNING_KEY prod', 'DATABASE_URL bad', 'RUNTIME_INTERNAL_TOKEN bad', 'RUNTIME_SYNC_TOKEN_SIGNING_KEY bad']);
    // …and no value of one appears anywhere.
    const bin = join(PACKAGE_ROOT, 'bin', 'runtime-gate.mjs');
    const outputs = [JSON.stringify(result), formatEnvCheck(result)];
    for (const json of [false, true]) {
      const run = spawnSync(process.execPath, [bin, 'env', 'check', '--env-file', dev, '--env-file', prod, '--profile', 'prod', '--env-file', bad, ...(json ? ['--json'] : [])], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).toBe(1);
      outputs.push(run.stdout, run.stderr);
    }
    for (const output of outputs) for (const needle of needles) expect(output).not.toContain(needle);
    expect(outputs[1]).toContain('RUNTIME_SYNC_TOKEN_SIGNING_KEY: dev');
  });
});

describe('runtime-gate env check', () => {
  const bin = join(PACKAGE_ROOT, 'bin', 'runtime-gate.mjs');
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'env', 'check', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('exits 0 on a clean pair, 1 on violations, 2 on usage errors', () => {
    const d = files();
    const dev = d.write('dev.env', DEV_ENV);
    const prod = d.write('prod.env', PROD_ENV);
    const ok = run('--env-file', dev, '--profile', 'dev', '--env-file', prod, '--profile', 'prod');
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('ok   dev/prod isolation');
    // dev.env checked as prod: RUNTIME_ENV and every prod rule are violated.
    expect(run('--env-file', dev, '--profile', 'prod').status).toBe(1);
    expect(run().status).toBe(2);
    expect(run('--profile', 'prod', '--env-file', prod).status).toBe(2);
    expect(run('--env-file', prod, '--profile', 'staging').status).toBe(2);
  });
});
