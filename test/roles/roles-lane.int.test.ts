/**
 * The roles lane inside a gate run and the `db roles` CLI, with the contract's real role
 * names (oa_runtime_owner, oa_runtime_rw, oa_khala_ro, oa_control_rw). Those roles are
 * global to the shared test cluster: they are created idempotently (concurrent creation is
 * tolerated) and never dropped, and every grant these tests change lives in a database of
 * this file only.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';
import { runChecks } from '../../harness/check-runner.ts';
import { rolesLane } from '../../harness/lanes/roles-lane.ts';
import { applyDbRoles } from '../../harness/roles/apply-db-roles.ts';
import { loadDbRolePolicy, withRolePrefix } from '../../harness/roles/db-role-policy.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from '../harness/gate-fixture.ts';
import { createTestDatabase } from '../support/test-database.ts';

const ROLE_CHECKS = ['roles.policy.roles-exist', 'roles.policy.schema-owner', 'roles.policy.required-grants', 'roles.policy.forbidden-grants', 'roles.policy.public-nothing'];

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('roles_lane');
  await applyDbRoles(fixture.db.pool);
});
afterAll(async () => {
  await fixture?.close();
});

describe('roles lane', () => {
  it('passes on a database the policy was applied to', async () => {
    const run = await fixture.runFaulty([], { lanes: ['roles'], target: { db_url: fixture.db.url } });
    for (const id of ROLE_CHECKS) expect(run.check(id), `${id}: ${run.check(id).detail}`).toMatchObject({ status: 'passed', required: 'required' });
    expect(run.report.decision).toBe('GO');
  });

  it('a drifted role grant (oa_khala_ro may write the journal) is a NO-GO naming it', async () => {
    await fixture.db.pool.query('GRANT INSERT ON runtime.sync_stream_events TO oa_khala_ro');
    try {
      const run = await fixture.runFaulty([], { lanes: ['roles'], target: { db_url: fixture.db.url } });
      expectCheckFails(run, 'roles.policy.forbidden-grants', /^1 violation\(s\) of contracts\/db-roles\.json: oa_khala_ro: forbidden INSERT on runtime\.sync_stream_events$/);
      expect(run.check('roles.policy.required-grants').status).toBe('passed');
    } finally {
      await fixture.db.pool.query('REVOKE INSERT ON runtime.sync_stream_events FROM oa_khala_ro');
    }
  });

  it('anything granted to PUBLIC is a NO-GO naming it', async () => {
    await fixture.db.pool.query('GRANT SELECT ON runtime.credit_settlements TO PUBLIC');
    try {
      const run = await fixture.runFaulty([], { lanes: ['roles'], target: { db_url: fixture.db.url } });
      expectCheckFails(run, 'roles.policy.public-nothing', /PUBLIC: SELECT on runtime\.credit_settlements/);
    } finally {
      await fixture.db.pool.query('REVOKE SELECT ON runtime.credit_settlements FROM PUBLIC');
    }
  });

  it('roles.policy.roles-exist fails naming each missing role', async () => {
    // Dropping a real oa_* role would break other users of the shared cluster, so the lane
    // runs with the contract policy under a prefix no role has.
    const policy = withRolePrefix(loadDbRolePolicy(), 'tabsent_');
    const [outcome] = await runChecks(
      rolesLane(undefined, { policy }).filter((c) => c.id === 'roles.policy.roles-exist'),
      { target: fixture.candidate(fixture.upstream.url, { db_url: fixture.db.url }), run: { exchanges: [], allowWrites: false, allowPayments: false, latencies: {} }, probeId: 'p', runDeadline: Date.now() + 30_000, redact: (t) => t },
    );
    expect(outcome!.check.status).toBe('failed');
    expect(outcome!.check.detail).toBe(
      '4 violation(s) of contracts/db-roles.json: tabsent_oa_runtime_owner: role does not exist; tabsent_oa_runtime_rw: role does not exist; tabsent_oa_khala_ro: role does not exist; tabsent_oa_control_rw: role does not exist',
    );
  });

  it('a database the policy was never applied to fails schema owner and required grants', async () => {
    const db = await createTestDatabase('roles_unapplied');
    try {
      await migrate(db.pool, { buildSha: 'dev' });
      const run = await fixture.runFaulty([], { lanes: ['roles'], target: { db_url: db.url } });
      expectCheckFails(run, 'roles.policy.schema-owner', /oa_runtime_owner: schema runtime is owned by \w+, expected oa_runtime_owner/);
      expectCheckFails(run, 'roles.policy.required-grants', /oa_khala_ro: missing SELECT on runtime\.sync_stream_events/);
    } finally {
      await db.drop();
    }
  });
});

describe('runtime-gate db roles', () => {
  const BIN = join(PACKAGE_ROOT, 'bin', 'runtime-gate.mjs');
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, 'db', 'roles', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' }, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('verify fails, apply --dry-run prints SQL and changes nothing, apply fixes it, verify passes', async () => {
    const db = await createTestDatabase('roles_cli');
    try {
      await migrate(db.pool, { buildSha: 'dev' });
      const before = cli('verify', '--db-url', db.url);
      expect(before.status, before.stderr).toBe(1);
      expect(before.stdout).toMatch(/^schema_owner\toa_runtime_owner: schema runtime is owned by \w+, expected oa_runtime_owner$/m);
      expect(before.stdout).toMatch(/^FAILED: \d+ violation\(s\) of contracts\/db-roles\.json$/m);

      const dry = cli('apply', '--dry-run', '--db-url', db.url);
      expect(dry.status, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('ALTER SCHEMA "runtime" OWNER TO "oa_runtime_owner";');
      expect(dry.stdout).toContain('GRANT SELECT ON TABLE "runtime"."khala_projection_checkpoints" TO "oa_khala_ro";');
      expect(cli('verify', '--db-url', db.url).status).toBe(1);

      const applied = cli('apply', '--db-url', db.url);
      expect(applied.status, applied.stderr).toBe(0);
      expect(applied.stdout).toMatch(/^db roles apply: \d+ statement\(s\) applied$/m);
      const after = cli('verify', '--db-url', db.url, '--json');
      expect(after.status, after.stdout).toBe(0);
      expect(JSON.parse(after.stdout)).toEqual({ ok: true, violations: [] });
    } finally {
      await db.drop();
    }
  });

  it('exits 2 without a database URL or with an unknown subcommand', () => {
    expect(cli('verify').status).toBe(2);
    expect(cli('grant').status).toBe(2);
  });
});
