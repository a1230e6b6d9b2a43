/**
 * The env lane inside a gate run against a real reference server (SPEC §4 "env"): a
 * target whose config_fingerprint is the one its env file yields passes, a drifted one is
 * a NO-GO, an invalid prod file and a database shared by dev and prod are NO-GO naming the
 * variables — and no secret value reaches any file of the report folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectCheckFails, type GateFixture, startGateFixture } from '../harness/gate-fixture.ts';
import { createEnvDir, DEV_ENV, type EnvDir, PROD_ENV } from './env-files.ts';

let fixture: GateFixture;
let dir: EnvDir;
beforeAll(async () => {
  fixture = await startGateFixture('env_lane', { RUNTIME_INSTANCE_ID: 'runtime-env-lane' });
});
afterAll(async () => {
  await fixture?.close();
});
afterEach(() => dir?.remove());

/** The environment the fixture started its server with (see startTestServer and startGateFixture). */
function serverEnv(): Record<string, string> {
  return { DATABASE_URL: fixture.db.url, LOG_LEVEL: 'warn', RUNTIME_INSTANCE_ID: 'runtime-env-lane' };
}

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('env lane', () => {
  it("passes when the target runs its env file's configuration", async () => {
    dir = createEnvDir();
    const envFile = dir.write('target.env', serverEnv());
    const run = await fixture.runFaulty([], { lanes: ['env'], envFiles: [envFile], target: { env_file: envFile } });
    expect(run.check('env.schema.valid').status, run.check('env.schema.valid').detail).toBe('passed');
    expect(run.check('env.fingerprint.target')).toMatchObject({ status: 'passed', required: 'required' });
    expect(run.check('env.isolation.dev-prod')).toMatchObject({ status: 'skipped', required: 'optional' });
    expect(run.report.decision).toBe('GO');
  });

  it('env.fingerprint.target fails when the running configuration drifted from the env file', async () => {
    dir = createEnvDir();
    const envFile = dir.write('target.env', { ...serverEnv(), RUNTIME_KHALA_HEARTBEAT_MS: '5000' });
    const run = await fixture.runFaulty([], { lanes: ['env'], envFiles: [envFile], target: { env_file: envFile } });
    expectCheckFails(run, 'env.fingerprint.target', /config_fingerprint "[0-9a-f]{64}" on the target, [0-9a-f]{64} from .*target\.env: the target does not run the configuration of its env file/);
  });

  it('an invalid prod file and a database shared by dev and prod are NO-GO, and no secret reaches the report', async () => {
    dir = createEnvDir();
    const shared = 'postgres://runtime:shared-db-pw-LEAK1@db.internal:5432/runtime';
    const prod = dir.write('prod.env', { ...PROD_ENV, DATABASE_URL: shared, RUNTIME_INTERNAL_TOKEN: 'short-LEAK2', LOG_LEVEL: undefined });
    const dev = dir.write('dev.env', { ...DEV_ENV, DATABASE_URL: shared.replace('runtime:', 'dev_user:') });
    const target = dir.write('target.env', serverEnv());
    const run = await fixture.runFaulty([], { lanes: ['env'], envFiles: [dev, prod], target: { env_file: target } });
    expectCheckFails(run, 'env.schema.valid', new RegExp(`${prod} \\(prod\\): LOG_LEVEL: required in prod .*; ${prod} \\(prod\\): RUNTIME_INTERNAL_TOKEN: at least 32 characters`));
    expectCheckFails(run, 'env.isolation.dev-prod', new RegExp(`^1 shared value\\(s\\): DATABASE_URL: dev \\(${dev}\\) and prod \\(${prod}\\) point at the same database$`));
    expect(run.check('env.fingerprint.target').status).toBe('passed');
    for (const file of filesUnder(run.dir)) {
      const text = readFileSync(file, 'utf8');
      for (const secret of ['LEAK1', 'LEAK2', 'shared-db-pw', PROD_ENV.RUNTIME_SYNC_TOKEN_SIGNING_KEY!, DEV_ENV.RUNTIME_INTERNAL_TOKEN!]) expect(text, file).not.toContain(secret);
    }
  });
});
