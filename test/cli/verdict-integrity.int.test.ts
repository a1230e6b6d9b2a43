/**
 * The verdict is trustworthy in both directions: GO only when the required checks ran
 * against a target that was really evaluated, NO-GO only when the target broke a rule,
 * 2 for a setting that cannot work and 3 for a target that could not be evaluated at all
 * (README "Exit codes"). Each case runs the real `runtime-gate` command against a real
 * reference server (or a faulty proxy in front of it).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReportFolder } from '../../harness/report/index.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { type FaultyTarget, startFaultyTarget } from '../support/faulty-target.ts';
import { DEV_INTERNAL_TOKEN, startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { type CliResult, killAll, runCli } from './run-cli.ts';

let db: TestDatabase;
let server: TestServer;
/** /internal/v1/health says the target takes no writes. */
let readOnly: FaultyTarget;
/** /readyz answers 503 forever. */
let neverReady: FaultyTarget;
/** A port nothing listens on (a server started and closed). */
let closedPort: number;
let tmpRoot: string;

beforeAll(async () => {
  tmpRoot = mkdtempSync(join(tmpdir(), 'runtime-gate-verdict-'));
  db = await createTestDatabase('verdict_int', 10);
  await migrate(db.pool, { buildSha: 'dev' });
  server = await startTestServer(db, { LOG_LEVEL: 'warn' });
  readOnly = await startFaultyTarget(server.url, [{ method: 'GET', path: /^\/internal\/v1\/health$/, json: (body) => ({ ...body, authority_write_mode: 'read_only' }) }]);
  neverReady = await startFaultyTarget(server.url, [{ method: 'GET', path: /^\/readyz$/, status: 503 }]);
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  killAll();
  await readOnly?.close();
  await neverReady?.close();
  await server?.close();
  await db?.drop();
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});

let counter = 0;
function outDir(label: string): string {
  counter += 1;
  return join(tmpRoot, `${counter}-${label}`);
}

function credentials(url: string): string[] {
  return ['--target', url, '--internal-token', DEV_INTERNAL_TOKEN, '--sync-signing-key', server.config.sync.signingKey, '--expected-build-sha', 'dev'];
}

function describeRun(result: CliResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`;
}

function readReport(dir: string): any {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
}

/** No stack trace, whatever happened. */
function expectNoStackTrace(result: CliResult): void {
  expect(result.all, describeRun(result)).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
  expect(result.all).not.toContain('node:internal');
}

describe('a check selection that selects nothing is a usage error, never GO', () => {
  it('a typo in --checks exits 2 naming the pattern, and so does an unknown exact id', async () => {
    for (const pattern of ['helth*', 'nosuch.check']) {
      const dir = outDir('typo');
      const result = await runCli(['validate', ...credentials(server.url), '--checks', pattern, '--out', dir]);
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.stderr).toContain(`--checks: '${pattern}' matches no check id`);
      expect(result.stdout).not.toContain('GO');
      expectNoStackTrace(result);
    }
  });

  it('a pattern whose lane cannot run here exits 2 naming the lane and its missing input', async () => {
    const result = await runCli(['validate', ...credentials(server.url), '--checks', 'drift.*', '--out', outDir('drift-only')]);
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain('selects no check of the lanes that can run');
    expect(result.stderr).toContain('drift (missing_input:db_url)');
  });

  it('a real selection still runs and is GO', async () => {
    const dir = outDir('health-only');
    const result = await runCli(['validate', ...credentials(server.url), '--checks', 'health.*', '--out', dir]);
    expect(result.code, describeRun(result)).toBe(0);
    const report = readReport(dir);
    expect(report.decision).toBe('GO');
    expect(report.checks.filter((c: any) => c.status === 'passed').length).toBeGreaterThan(2);
  });
});

describe('exit 3: the target could not be evaluated', () => {
  it('an unreachable target: exit 3, one line naming the cause (ECONNREFUSED) and --target, and a NOT-EVALUATED report', async () => {
    const dir = outDir('unreachable');
    const result = await runCli(['validate', '--target', `http://127.0.0.1:${closedPort}`, '--internal-token', 'x', '--out', dir]);
    expect(result.code, describeRun(result)).toBe(3);
    expect(result.stderr).toMatch(/could not evaluate the target: cannot reach candidate http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*; check --target/);
    expect(result.all).not.toContain('ERROR ');
    expect(result.all).not.toMatch(/fetch failed(?!.*ECONNREFUSED)/);
    expectNoStackTrace(result);
    const report = readReport(dir);
    expect(report.decision).toBe('NOT-EVALUATED');
    expect(report.evaluation_error).toMatchObject({ cause: 'unreachable', target: 'candidate' });
    expect(report.checks).toEqual([]);
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toContain('# NOT-EVALUATED');
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('<error message="cannot reach candidate');
    expect((await verifyReportFolder(dir)).ok).toBe(true);
  });

  it('a wrong internal token: exit 3 credentials_refused naming --internal-token; none at all says to give one', async () => {
    const wrong = outDir('wrong-token');
    const result = await runCli(['validate', '--target', server.url, '--internal-token', 'not-the-token', '--out', wrong]);
    expect(result.code, describeRun(result)).toBe(3);
    expect(result.stderr).toContain('refused the internal token (HTTP 401 on GET /internal/v1/health); check --internal-token');
    expect(result.stderr).not.toContain('$.status is undefined');
    expect(readReport(wrong).evaluation_error.cause).toBe('credentials_refused');
    const none = await runCli(['validate', '--target', server.url, '--out', outDir('no-token')]);
    expect(none.code, describeRun(none)).toBe(3);
    expect(none.stderr).toContain('needs an internal token (HTTP 401 on GET /internal/v1/health); give --internal-token');
  });

  it('a target not ready within --wait-ready: exit 3 not_ready naming the flag; without --wait-ready it is a NO-GO on health.readyz', async () => {
    const dir = outDir('not-ready');
    const result = await runCli(['validate', ...credentials(neverReady.url), '--wait-ready', '1', '--out', dir]);
    expect(result.code, describeRun(result)).toBe(3);
    expect(result.stderr).toContain('was not ready within --wait-ready 1 s (/readyz answered 503)');
    expect(readReport(dir).evaluation_error.cause).toBe('not_ready');
    const noWait = outDir('not-ready-no-wait');
    const checked = await runCli(['validate', ...credentials(neverReady.url), '--lanes', 'health', '--out', noWait]);
    expect(checked.code, describeRun(checked)).toBe(1);
    expect(readReport(noWait).decision_reason).toContain('health.readyz.ready');
  });

  it('baseline mode relaxes NO-GO only: a target that cannot be evaluated still exits 3', async () => {
    const result = await runCli(['validate', '--target', `http://127.0.0.1:${closedPort}`, '--mode', 'baseline', '--out', outDir('baseline-unreachable')]);
    expect(result.code, describeRun(result)).toBe(3);
  });
});

describe('writes are the operator’s decision, not the target’s', () => {
  it('a target that says read_only is NO-GO with a message naming --no-writes; with --no-writes its read checks gate', async () => {
    const dir = outDir('read-only');
    const result = await runCli(['validate', ...credentials(readOnly.url), '--lanes', 'health,contract,khala', '--out', dir]);
    expect(result.code, describeRun(result)).toBe(1);
    const report = readReport(dir);
    const writeChecks = report.checks.filter((c: any) => c.detail.includes('the target refuses writes'));
    const blocking = writeChecks.filter((c: any) => c.required === 'required');
    expect(blocking.length).toBeGreaterThan(5);
    for (const check of writeChecks) expect(check.detail).toContain('give --no-writes');
    expect(report.decision).toBe('NO-GO');
    expect(report.decision_reason).toContain(`${blocking[0].check_id} (skipped, not allowed in gate mode)`);

    const allowed = outDir('read-only-no-writes');
    const readOnlyRun = await runCli(['validate', ...credentials(readOnly.url), '--lanes', 'health,contract,khala', '--no-writes', '--out', allowed]);
    expect(readOnlyRun.code, describeRun(readOnlyRun)).toBe(0);
    const skipped = readReport(allowed).checks.filter((c: any) => c.detail === 'write check skipped: --no-writes');
    expect(skipped.length).toBe(writeChecks.length);
    for (const check of skipped) expect(check.required).toBe('optional');
  });
});

describe('a report folder that cannot be written is refused before any lane, in one line', () => {
  it('--out under a regular file and --out under /proc exit 2 without a stack trace and without running a lane', async () => {
    const file = join(tmpRoot, 'regular-file');
    writeFileSync(file, 'x');
    for (const out of [join(file, 'x'), '/proc/nope/x']) {
      const result = await runCli(['validate', '--target', `http://127.0.0.1:${closedPort}`, '--out', out], { timeoutMs: 30_000 });
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.stderr.split('\n')[0]).toMatch(new RegExp(`^runtime-gate: ${out.replace(/[/.]/g, '\\$&')}: .*choose another --out folder$`));
      expect(result.all).not.toContain('cannot reach');
      expectNoStackTrace(result);
    }
  });
});

describe('lanes that did not run are said, not hidden behind a GO', () => {
  it('validate --target alone names every lane not run with its reason in the decision line, SUMMARY.md and report.html', async () => {
    const dir = outDir('lanes-not-run');
    const result = await runCli(['validate', ...credentials(server.url), '--lanes', 'health,drift,roles,env,parity', '--require-lanes', 'drift', '--out', dir]);
    const report = readReport(dir);
    // --lanes makes every listed lane required: the ones without inputs block.
    expect(result.code, describeRun(result)).toBe(1);
    // In the registry's lane order (harness/lanes/registry.ts), whatever the order of --lanes.
    expect(report.lanes_not_run).toEqual([
      { lane: 'parity', required: true, reason: 'missing_input:baseline' },
      { lane: 'drift', required: true, reason: 'missing_input:db_url' },
      { lane: 'roles', required: true, reason: 'missing_input:db_url' },
      { lane: 'env', required: true, reason: 'missing_input:env_file' },
    ]);
    expect(result.stdout).toContain('lanes not run: parity (required, missing_input:baseline), drift (required, missing_input:db_url), roles (required, missing_input:db_url), env (required, missing_input:env_file)');
    const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('## Not run (4 lane(s)');
    expect(summary).toContain('| lane env | required | missing\\_input:env\\_file |');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<td>lane drift</td><td>required</td><td class="detail">missing_input:db_url</td>');
  });

  it('a GO with default lanes lists the optional lanes that did not run; --require-lanes turns one into a NO-GO', async () => {
    const dir = outDir('default-lanes');
    const go = await runCli(['validate', ...credentials(server.url), '--checks', 'health.*', '--out', dir]);
    expect(go.code, describeRun(go)).toBe(0);
    expect(go.stdout).toMatch(/^GO: all \d+ required checks passed; lanes not run: parity \(missing_input:baseline\), drift \(missing_input:db_url\), roles \(missing_input:db_url\), env \(missing_input:env_file\); only checks selected by --checks health\.\* ran$/m);
    const required = outDir('require-drift');
    const noGo = await runCli(['validate', ...credentials(server.url), '--checks', 'health.*', '--require-lanes', 'drift', '--out', required]);
    expect(noGo.code, describeRun(noGo)).toBe(1);
    expect(readReport(required).decision_reason).toContain('drift.lane.inputs (skipped, not allowed in gate mode)');
  });
});

describe('found by fault hunting: settings that used to give a wrong verdict or exit code', () => {
  it('a lane required by --require-lanes but left out of --lanes still blocks', async () => {
    const dir = outDir('require-outside-lanes');
    const result = await runCli(['validate', ...credentials(server.url), '--lanes', 'health', '--require-lanes', 'drift', '--out', dir]);
    expect(result.code, describeRun(result)).toBe(1);
    expect(readReport(dir).lanes_not_run).toEqual([{ lane: 'drift', required: true, reason: 'missing_input:db_url' }]);
  });

  it('empty lists, credentials in the URL and a deadline past the timer limit are usage errors (exit 2)', async () => {
    const cases: [string[], string][] = [
      [['--lanes', ''], '--lanes is empty'],
      [['--checks', ''], '--checks is empty'],
      [['--run-timeout-ms', '3000000000'], '--run-timeout-ms must be at most'],
    ];
    for (const [flags, message] of cases) {
      const result = await runCli(['validate', ...credentials(server.url), ...flags, '--out', outDir('usage')]);
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.stderr).toContain(message);
    }
    const withCredentials = await runCli(['validate', '--target', server.url.replace('http://', 'http://user:secret@'), '--out', outDir('url-credentials')]);
    expect(withCredentials.code, describeRun(withCredentials)).toBe(2);
    expect(withCredentials.stderr).toContain('base_url must not carry credentials');
  });

  it('a --sign-key that is not an Ed25519 key is refused before any check runs', async () => {
    const key = join(tmpRoot, 'not-a-key.pem');
    writeFileSync(key, 'not a key');
    const result = await runCli(['validate', ...credentials(server.url), '--sign-key', key, '--out', outDir('bad-key')]);
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain(`--sign-key ${key}:`);
    expect(result.stderr).not.toMatch(/^(PASS|FAIL) /m);
  });

  it('--out may be a symbolic link to an empty folder', async () => {
    const real = join(tmpRoot, 'real-out');
    const link = join(tmpRoot, 'link-out');
    mkdirSync(real);
    symlinkSync(real, link);
    const result = await runCli(['validate', ...credentials(server.url), '--checks', 'health.healthz.status', '--out', link]);
    expect(result.code, describeRun(result)).toBe(0);
    expect(readReport(real).decision).toBe('GO');
  });

  it('a port fetch refuses (10080) cannot be evaluated: exit 3 naming the reason, not a NO-GO', async () => {
    const result = await runCli(['validate', '--target', 'http://127.0.0.1:10080', '--internal-token', 'x', '--out', outDir('bad-port')]);
    expect(result.code, describeRun(result)).toBe(3);
    expect(result.stderr).toContain('bad port: fetch refuses to connect to this port');
  });

  it('report merge: shards with different --checks selections are refused; a NOT-EVALUATED shard makes the merge exit 3', async () => {
    const first = outDir('shard-1');
    const second = outDir('shard-2-other-selection');
    const [one, two] = await Promise.all([
      runCli(['validate', ...credentials(server.url), '--checks', 'health.*', '--shard', '1/2', '--out', first]),
      runCli(['validate', ...credentials(server.url), '--checks', 'health.healthz.status', '--shard', '2/2', '--out', second]),
    ]);
    expect([one.code, two.code], `${describeRun(one)}\n${describeRun(two)}`).toEqual([0, 0]);
    const refused = await runCli(['report', 'merge', first, second, '--out', outDir('merged-refused')]);
    expect(refused.code, describeRun(refused)).toBe(2);
    expect(refused.stderr).toContain('check selections differ');
    const unevaluated = outDir('shard-2-bad-token');
    const bad = await runCli(['validate', '--target', server.url, '--internal-token', 'wrong', '--sync-signing-key', server.config.sync.signingKey, '--expected-build-sha', 'dev', '--checks', 'health.*', '--shard', '2/2', '--out', unevaluated]);
    expect(bad.code, describeRun(bad)).toBe(3);
    const merged = await runCli(['report', 'merge', first, unevaluated, '--out', outDir('merged-not-evaluated')]);
    expect(merged.code, describeRun(merged)).toBe(3);
    expect(merged.stdout).toMatch(/^NOT-EVALUATED: .*refused the internal token/m);
  });

  it('env check --env-file-path reads a missing file as a violation (Node 20 would take --env-file for itself)', async () => {
    const result = await runCli(['env', 'check', '--env-file-path', join(tmpRoot, 'missing.env')]);
    expect(result.code, describeRun(result)).toBe(1);
    expect(result.stdout).toContain('unreadable (ENOENT)');
  });
});

