/**
 * The `runtime-gate` command as a user runs it: `node bin/runtime-gate.mjs …` spawned as a
 * child process (no TTY) against a real reference server on its own database, and against
 * faulty proxies in front of it. Exit codes (0 GO, 1 NO-GO, 2 usage/configuration), what
 * it prints, the report folder it writes, `report verify`, `contracts diff`, and
 * scripts/validate-cutover.sh (SPEC §4, §5).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { validateReportSchema } from '../../harness/report/index.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { type FaultyTarget, startFaultyTarget } from '../support/faulty-target.ts';
import { DEV_INTERNAL_TOKEN, startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { type CliResult, killAll, mapLimit, PACKAGE_ROOT, runCli, runCutoverScript } from './run-cli.ts';

const LANES = 'health,contract,credit,observability';
const ESC = '\u001b';

let db: TestDatabase;
let server: TestServer;
/** /healthz answers 500. */
let failing: FaultyTarget;
/** /internal/v1/health never answers. */
let hung: FaultyTarget;
let tmpRoot: string;
let signingKey: string;
const scriptReports: string[] = [];

beforeAll(async () => {
  tmpRoot = mkdtempSync(join(tmpdir(), 'runtime-gate-cli-'));
  db = await createTestDatabase('cli_int', 20);
  await migrate(db.pool, { buildSha: 'dev' });
  server = await startTestServer(db, { LOG_LEVEL: 'warn' });
  signingKey = server.config.sync.signingKey;
  failing = await startFaultyTarget(server.url, [{ method: 'GET', path: /^\/healthz$/, status: 500 }]);
  hung = await startFaultyTarget(server.url, [{ method: 'GET', path: /^\/internal\/v1\/health$/, hang: true }]);
});

afterAll(async () => {
  killAll();
  await failing?.close();
  await hung?.close();
  await server?.close();
  await db?.drop();
  for (const dir of scriptReports) rmSync(dir, { recursive: true, force: true });
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});

let outCounter = 0;
/** A fresh, not yet existing report folder under the temporary root. */
function outDir(label: string): string {
  outCounter += 1;
  return join(tmpRoot, `${String(outCounter).padStart(2, '0')}-${label}`);
}

function credentials(url: string): string[] {
  return ['--target', url, '--internal-token', DEV_INTERNAL_TOKEN, '--sync-signing-key', signingKey, '--expected-build-sha', 'dev'];
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function readReport(dir: string): any {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
}

/** Every file of a folder, relative, sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? listFiles(dir, join(prefix, entry.name)) : [join(prefix, entry.name)]))
    .sort();
}

function describeRun(result: CliResult): string {
  return `exit ${result.code} (${result.signal ?? 'no signal'})\n--- stdout\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`;
}

/** The `evidence: <dir> sha256:<hex>` line (exactly one). */
function evidenceOf(stdout: string): { dir: string; sha256: string } {
  const lines = stdout.split('\n').filter((line) => line.startsWith('evidence: '));
  expect(lines, stdout).toHaveLength(1);
  const match = /^evidence: (.+) sha256:([0-9a-f]{64})$/.exec(lines[0]!);
  expect(match, lines[0]).not.toBeNull();
  return { dir: match![1]!, sha256: match![2]! };
}

/** One GO run against the correct server, shared by the tests that need a fresh report. */
let goRun: Promise<{ result: CliResult; dir: string }> | undefined;
function correctRun(): Promise<{ result: CliResult; dir: string }> {
  goRun ??= (async () => {
    const dir = outDir('go');
    const result = await runCli(['validate', ...credentials(server.url), '--lanes', LANES, '--out', dir]);
    return { result, dir };
  })();
  return goRun;
}

describe('usage and configuration errors', () => {
  it('validate --help, -h, report verify --help and help exit 0 and print the usage on stdout', async () => {
    const invocations = [['validate', '--help'], ['validate', '-h'], ['validate', '--target', 'http://127.0.0.1:9', '--help'], ['report', 'verify', '--help'], ['help']];
    const results = await Promise.all(invocations.map((args) => runCli(args)));
    for (const [i, result] of results.entries()) {
      expect(result.code, `${invocations[i]!.join(' ')}: ${describeRun(result)}`).toBe(0);
      expect(result.stdout).toMatch(/^runtime-gate — contract-first validation/);
      expect(result.stdout).toContain('runtime-gate validate [--target URL | --config F]');
      expect(result.stdout).toContain('Exit codes: 0 ok (GO), 1 failed (NO-GO), 2 usage or configuration error, 3 the target could not be');
      expect(result.stderr).toBe('');
    }
  });

  it('--version prints the package version and exits 0', async () => {
    const result = await runCli(['--version']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toBe(`${JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version}\n`);
  });

  it('an unknown command, flag or lane, a bad --config and --shard 3/2 exit 2 with a clear message on stderr', async () => {
    const missingConfig = join(tmpRoot, 'no-such-config.json');
    const notJson = join(tmpRoot, 'not-json.json');
    writeFileSync(notJson, '{"targets": {"candidate": ');
    const existingReport = join(tmpRoot, 'existing-report');
    mkdirSync(existingReport, { recursive: true });
    writeFileSync(join(existingReport, 'report.json'), '{}');
    const cases: [string, string[], RegExp][] = [
      // Evidence is never overwritten, and the run is refused before any lane runs.
      ['--out an existing report folder', ['validate', ...credentials(server.url), '--out', existingReport], /^runtime-gate: \S+existing-report: report folder already exists and is not empty; choose a new --out folder$/m],
      ['unknown command', ['frobnicate'], /^runtime-gate: unknown command frobnicate$/m],
      ['unknown flag', ['validate', '--target', server.url, '--frobnicate'], /^runtime-gate: Unknown option '--frobnicate'/m],
      ['unknown lane', ['validate', ...credentials(server.url), '--lanes', 'health,warp'], /^runtime-gate: unknown lane warp \(lanes: health, contract, khala, parity, credit, drift, roles, env, observability\)$/m],
      ['missing --config file', ['validate', '--config', missingConfig], new RegExp(`^runtime-gate: --config ${missingConfig}: ENOENT`, 'm')],
      ['--config not JSON', ['validate', '--config', notJson], new RegExp(`^runtime-gate: --config ${notJson}: not JSON`, 'm')],
      ['--shard 3/2', ['validate', ...credentials(server.url), '--shard', '3/2'], /^runtime-gate: --shard must be i\/n with 1 ≤ i ≤ n$/m],
      ['--mode other', ['validate', ...credentials(server.url), '--mode', 'lenient'], /^runtime-gate: --mode must be gate or baseline$/m],
      ['no target at all', ['validate', '--lanes', 'health'], /^runtime-gate: candidate: base_url is required/m],
      // A NaN deadline would never expire: bad numbers are usage errors, not silent defaults.
      ['--wait-ready not a number', ['validate', ...credentials(server.url), '--wait-ready', 'soon'], /^runtime-gate: --wait-ready must be a positive number, got soon$/m],
      ['--check-timeout-ms not a number', ['validate', ...credentials(server.url), '--check-timeout-ms', 'abc'], /^runtime-gate: --check-timeout-ms must be a positive number, got abc$/m],
    ];
    const results = await mapLimit(cases, 4, ([, args]) => runCli(args));
    for (const [i, [name, , message]] of cases.entries()) {
      const result = results[i]!;
      expect(result.code, `${name}: ${describeRun(result)}`).toBe(2);
      expect(result.stderr, name).toMatch(message);
      expect(result.stderr, `${name}: the usage follows the message`).toContain('Usage:');
      expect(result.stdout, `${name}: nothing on stdout`).toBe('');
      // Nothing ran: no report folder and no stack trace.
      expect(result.stderr, name).not.toMatch(/\n\s+at /);
    }
  });
});

describe('validate against the correct server', () => {
  it('exits 0, prints GO and an evidence line whose sha256 is that of MANIFEST.sha256, in plain non-TTY words', async () => {
    const { result, dir } = await correctRun();
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/^GO: /m);
    expect(result.stdout).toContain(`report: ${dir}\n`);
    const evidence = evidenceOf(result.stdout);
    expect(evidence.dir).toBe(dir);
    const manifest = readFileSync(join(dir, 'MANIFEST.sha256'));
    expect(evidence.sha256).toBe(sha256(manifest));

    // report verify prints the same sha256 for the same folder.
    const verify = await runCli(['report', 'verify', dir]);
    expect(verify.code, describeRun(verify)).toBe(0);
    expect(verify.stdout.trim()).toBe(`ok: ${dir} sha256:${evidence.sha256}`);

    // Not a TTY: no ANSI escapes anywhere, PASS words per check on stderr.
    expect(result.all).not.toContain(ESC);
    expect(result.stderr).toMatch(/^PASS health\.healthz\.status \(required, \d+ ms\)$/m);
    expect(result.stderr).toMatch(/^PASS credit\.cep\.served-openapi \(required, \d+ ms\)$/m);
    expect(result.stderr).not.toMatch(/^(FAIL|ERROR) /m);
    expect(result.stderr).not.toMatch(/[✓✗]/);

    const report = readReport(dir);
    expect(report.decision).toBe('GO');
    expect(report.mode).toBe('gate');
    expect(report.targets[0]).toMatchObject({ role: 'candidate', base_url: server.url, build_sha: 'dev', expected_build_sha: 'dev' });
    expect([...new Set(report.checks.map((c: any) => c.lane))].sort()).toEqual(['contract', 'credit', 'health', 'observability']);
    expect(report.checks.every((c: any) => c.status === 'passed' || c.required === 'optional'), JSON.stringify(report.checks.filter((c: any) => c.status !== 'passed'))).toBe(true);
    // Every check printed one line on stderr.
    for (const check of report.checks) expect(result.stderr).toContain(` ${check.check_id} (${check.required}, `);

    // The internal token and signing key are given as flags but never printed or written.
    expect(result.all).not.toContain(DEV_INTERNAL_TOKEN);
    expect(result.all).not.toContain(signingKey);
    for (const file of listFiles(dir)) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text.includes(DEV_INTERNAL_TOKEN), `${file} has the internal token`).toBe(false);
      expect(text.includes(signingKey), `${file} has the signing key`).toBe(false);
    }
  });

  it('--json prints exactly one JSON document on stdout: the report, valid against the report schema', async () => {
    const dir = outDir('json');
    const result = await runCli(['validate', ...credentials(server.url), '--lanes', 'health,credit', '--out', dir, '--json']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(result.stdout.trimEnd().split('\n'), 'one line: one document').toHaveLength(1);
    const report = JSON.parse(result.stdout);
    expect(validateReportSchema(report)).toEqual([]);
    expect(report).toMatchObject({ schema: 'runtime-gate.report.v1', decision: 'GO', mode: 'gate' });
    // It is the report written to the folder, and nothing else was printed.
    expect(report).toEqual(readReport(dir));
    expect(result.stdout).not.toContain('evidence:');
    expect(result.stderr).toBe('');
  });
});

describe('validate against faulty targets', () => {
  it('/healthz answering 500: exit 1, NO-GO naming health.healthz.status, FAIL words; --mode baseline exits 0 with the same NO-GO report', async () => {
    const gateDir = outDir('healthz-500-gate');
    const baselineDir = outDir('healthz-500-baseline');
    const args = ['validate', ...credentials(failing.url), '--lanes', LANES, '--check-timeout-ms', '3000'];
    const [gate, baseline] = await Promise.all([runCli([...args, '--out', gateDir]), runCli([...args, '--out', baselineDir, '--mode', 'baseline'])]);

    expect(gate.code, describeRun(gate)).toBe(1);
    expect(gate.stdout).toMatch(/^NO-GO: .*health\.healthz\.status/m);
    expect(gate.stderr).toMatch(/^FAIL health\.healthz\.status \(required, \d+ ms\): .*500/m);
    expect(gate.all).not.toContain(ESC);
    expect(evidenceOf(gate.stdout).dir).toBe(gateDir);
    const gateReport = readReport(gateDir);
    expect(gateReport.decision).toBe('NO-GO');
    expect(gateReport.checks.find((c: any) => c.check_id === 'health.healthz.status')).toMatchObject({ status: 'failed', required: 'required' });
    const summary = readFileSync(join(gateDir, 'SUMMARY.md'), 'utf8');
    expect(summary.split(/^## Failing checks/m)[1] ?? '').toContain('`health.healthz.status`');

    expect(baseline.code, describeRun(baseline)).toBe(0);
    expect(baseline.stdout).toMatch(/^NO-GO: /m);
    const baselineReport = readReport(baselineDir);
    expect(baselineReport).toMatchObject({ decision: 'NO-GO', mode: 'baseline' });
    expect(baselineReport.checks.find((c: any) => c.check_id === 'health.healthz.status').status).toBe('failed');
  });

  it('a hung /internal/v1/health cannot hang the run: exit 1 within the deadline, NO-GO naming health.internal.schema', async () => {
    const dir = outDir('hung-health');
    const started = Date.now();
    const result = await runCli(['validate', ...credentials(hung.url), '--lanes', 'health', '--check-timeout-ms', '1500', '--out', dir], { timeoutMs: 50_000 });
    expect(result.code, describeRun(result)).toBe(1);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(result.stdout).toMatch(/^NO-GO: .*health\.internal\.schema/m);
    expect(result.stderr).toMatch(/^(FAIL|ERROR) health\.internal\.schema \(required, \d+ ms\): /m);
    const check = readReport(dir).checks.find((c: any) => c.check_id === 'health.internal.schema');
    expect(['failed', 'error']).toContain(check.status);
    expect(check.detail).toMatch(/deadline|no answer|timeout|timed out/i);
  });
});

describe('validate --list-checks', () => {
  it('prints every check id with required/optional, khala.k1.gapless-concurrent-writes among them', async () => {
    const result = await runCli(['validate', '--list-checks']);
    expect(result.code, describeRun(result)).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(30);
    for (const line of lines) expect(line).toMatch(/^[a-z]+\.[a-z0-9-]+\.[a-z0-9-]+\t(required|optional)( \(writes\))?\t\S/);
    const byId = new Map(lines.map((line) => [line.split('\t')[0]!, line.split('\t')[1]!]));
    expect(byId.get('khala.k1.gapless-concurrent-writes')).toBe('required (writes)');
    expect(byId.get('health.healthz.status')).toBe('required');
    expect(byId.get('khala.k6.budget-boundary')).toMatch(/^optional/);
    expect(byId.get('drift.migrations.all-applied')).toBe('optional');
    expect(new Set(byId.keys()).size, 'check ids are unique').toBe(lines.length);
  });
});

describe('targets from the environment', () => {
  it('RUNTIME_GATE_* variables are enough: no target flags, GO', async () => {
    const dir = outDir('env-only');
    const result = await runCli(['validate', '--lanes', 'health,credit', '--out', dir], {
      env: { RUNTIME_GATE_TARGET_URL: server.url, RUNTIME_GATE_INTERNAL_TOKEN: DEV_INTERNAL_TOKEN, RUNTIME_GATE_SYNC_SIGNING_KEY: signingKey, RUNTIME_GATE_EXPECTED_BUILD_SHA: 'dev' },
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/^GO: /m);
    expect(readReport(dir).targets[0]).toMatchObject({ base_url: server.url, expected_build_sha: 'dev' });
  });

  it('flags override the environment, and --internal-token env:VAR reads the token from VAR', async () => {
    const dir = outDir('flags-over-env');
    const seenBefore = failing.requests.length;
    const result = await runCli(['validate', '--target', server.url, '--internal-token', 'env:CLI_TEST_INTERNAL_TOKEN', '--expected-build-sha', 'dev', '--lanes', 'health,credit', '--out', dir], {
      env: {
        // Every one of these is wrong; the flags win.
        RUNTIME_GATE_TARGET_URL: failing.url,
        RUNTIME_GATE_INTERNAL_TOKEN: 'wrong-token-from-env',
        RUNTIME_GATE_EXPECTED_BUILD_SHA: 'not-the-running-build',
        RUNTIME_GATE_SYNC_SIGNING_KEY: signingKey,
        CLI_TEST_INTERNAL_TOKEN: DEV_INTERNAL_TOKEN,
      },
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/^GO: /m);
    const report = readReport(dir);
    expect(report.targets[0]).toMatchObject({ base_url: server.url, expected_build_sha: 'dev', build_sha: 'dev' });
    // The token was used (the internal health check needs it) but never printed.
    expect(report.checks.find((c: any) => c.check_id === 'health.internal.schema').status).toBe('passed');
    expect(result.all).not.toContain(DEV_INTERNAL_TOKEN);
    expect(failing.requests.slice(seenBefore), 'the env target was never contacted').toEqual([]);
  });

  it('the wrong token from the environment alone cannot evaluate the target (the env value is really used): exit 3', async () => {
    const dir = outDir('env-wrong-token');
    const result = await runCli(['validate', '--target', server.url, '--lanes', 'health', '--out', dir], { env: { RUNTIME_GATE_INTERNAL_TOKEN: 'wrong-token-from-env' } });
    expect(result.code, describeRun(result)).toBe(3);
    expect(readReport(dir).evaluation_error.cause).toBe('credentials_refused');
  });

  it('an env:VAR reference to a missing variable exits 2 naming the variable, never printing a secret', async () => {
    const dir = outDir('env-missing');
    const result = await runCli(['validate', '--target', server.url, '--internal-token', 'env:CLI_TEST_NOT_SET', '--lanes', 'health', '--out', dir], {
      env: { RUNTIME_GATE_SYNC_SIGNING_KEY: signingKey, RUNTIME_GATE_INTERNAL_TOKEN: DEV_INTERNAL_TOKEN },
    });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toMatch(/^runtime-gate: candidate\.internal_token: environment variable CLI_TEST_NOT_SET is not set$/m);
    expect(result.all).not.toContain(DEV_INTERNAL_TOKEN);
    expect(result.all).not.toContain(signingKey);
    expect(existsSync(dir), 'no report folder for a configuration error').toBe(false);
  });
});

describe('report verify', () => {
  function copyOf(source: string, label: string): string {
    const dir = outDir(label);
    cpSync(source, dir, { recursive: true });
    return dir;
  }

  it('exits 0 on a fresh report and 1 after one changed byte in any file, a deleted file or an added file', async () => {
    const { result, dir } = await correctRun();
    expect(result.code, describeRun(result)).toBe(0);
    const files = listFiles(dir);
    expect(files).toEqual(expect.arrayContaining(['MANIFEST.sha256', 'SUMMARY.md', 'junit.xml', 'report.html', 'report.json', 'results.tsv']));
    expect(files.some((f) => f.startsWith('logs/'))).toBe(true);

    const fresh = await runCli(['report', 'verify', copyOf(dir, 'verify-fresh')]);
    expect(fresh.code, describeRun(fresh)).toBe(0);
    expect(fresh.stderr).toBe('');

    interface Tamper {
      name: string;
      dir: string;
      problem: RegExp;
    }
    const tampered: Tamper[] = [];
    for (const file of files) {
      const copy = copyOf(dir, `verify-byte-${tampered.length}`);
      const bytes = readFileSync(join(copy, file));
      expect(bytes.length, `${file} is not empty`).toBeGreaterThan(0);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = bytes[at]! ^ 0x01;
      writeFileSync(join(copy, file), bytes);
      // A changed manifest no longer lists the file it lists, or no longer parses.
      tampered.push({ name: `one byte of ${file}`, dir: copy, problem: file === 'MANIFEST.sha256' ? /./ : new RegExp(`edited: ${file.replace(/[.]/g, '\\.')} `) });
    }
    for (const file of ['report.json', files.find((f) => f.startsWith('logs/'))!]) {
      const copy = copyOf(dir, `verify-deleted-${tampered.length}`);
      unlinkSync(join(copy, file));
      tampered.push({ name: `deleted ${file}`, dir: copy, problem: new RegExp(`missing: ${file.replace(/[.]/g, '\\.')}`) });
    }
    for (const file of ['extra.txt', 'logs/extra.log']) {
      const copy = copyOf(dir, `verify-added-${tampered.length}`);
      mkdirSync(join(copy, 'logs'), { recursive: true });
      writeFileSync(join(copy, file), 'added after the run\n');
      tampered.push({ name: `added ${file}`, dir: copy, problem: new RegExp(`added: ${file.replace(/[.]/g, '\\.')}`) });
    }

    const results = await mapLimit(tampered, 6, (t) => runCli(['report', 'verify', t.dir]));
    for (const [i, t] of tampered.entries()) {
      const verify = results[i]!;
      expect(verify.code, `${t.name}: ${describeRun(verify)}`).toBe(1);
      expect(verify.stdout, t.name).toMatch(/^FAILED: \d+ problem\(s\)$/m);
      expect(verify.stderr, t.name).toMatch(t.problem);
    }
  });

  it('report verify on a folder that does not exist exits 1; without DIR exits 2', async () => {
    const [missing, usage] = await Promise.all([runCli(['report', 'verify', join(tmpRoot, 'no-such-report')]), runCli(['report', 'verify'])]);
    expect(missing.code, describeRun(missing)).toBe(1);
    expect(missing.stderr).toContain('not a directory');
    expect(usage.code, describeRun(usage)).toBe(2);
    expect(usage.stderr).toMatch(/^runtime-gate: report verify needs exactly one DIR$/m);
  });
});

describe('contracts diff', () => {
  it('exits 1 when NEW removes an operation and 0 for identical files', async () => {
    const contract = join(PACKAGE_ROOT, 'contracts/runtime.openapi.yaml');
    const document = YAML.parse(readFileSync(contract, 'utf8'));
    expect(document.paths['/internal/v1/runs/{run_id}/cancel'].post.operationId).toBe('cancelRun');
    delete document.paths['/internal/v1/runs/{run_id}/cancel'];
    const removed = join(tmpRoot, 'openapi-without-cancel.yaml');
    writeFileSync(removed, YAML.stringify(document));
    const copy = join(tmpRoot, 'openapi-copy.yaml');
    writeFileSync(copy, readFileSync(contract));

    const [breaking, identical, reverse] = await Promise.all([runCli(['contracts', 'diff', contract, removed]), runCli(['contracts', 'diff', contract, copy]), runCli(['contracts', 'diff', removed, contract])]);
    expect(breaking.code, describeRun(breaking)).toBe(1);
    expect(breaking.stdout).toMatch(/^\d+ breaking changes?:$/m);
    expect(breaking.stdout).toContain('/internal/v1/runs/{run_id}/cancel');
    expect(identical.code, describeRun(identical)).toBe(0);
    expect(identical.stdout.trim()).toBe('no breaking changes');
    // Adding an operation is not breaking.
    expect(reverse.code, describeRun(reverse)).toBe(0);
  });

  it('contracts diff with one file exits 2', async () => {
    const result = await runCli(['contracts', 'diff', 'contracts/runtime.openapi.yaml']);
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toMatch(/^runtime-gate: contracts diff needs OLD NEW/m);
  });
});

describe('scripts/validate-cutover.sh', () => {
  /** Report folders under reports/ the script created during `fn` (removed in afterAll). */
  async function trackingReports(fn: () => Promise<CliResult>): Promise<{ result: CliResult; created: string[] }> {
    const reports = join(PACKAGE_ROOT, 'reports');
    const before = new Set(existsSync(reports) ? readdirSync(reports) : []);
    const result = await fn();
    const created = (existsSync(reports) ? readdirSync(reports) : []).filter((name) => !before.has(name) && /-staging|-prod/.test(name)).map((name) => join(reports, name));
    scriptReports.push(...created);
    const printed = /^report: (reports\/\S+)$/m.exec(result.stdout)?.[1];
    if (printed) scriptReports.push(join(PACKAGE_ROOT, printed));
    return { result, created };
  }

  it('FAIL_ON_REQUIRED_FAILURE=1 on a correct server exits 0 (GO) and writes reports/<stamp>-staging', async () => {
    const { result, created } = await trackingReports(() =>
      runCutoverScript(['--lanes', 'health', '--expected-build-sha', 'dev'], {
        env: { STAGING_RUNTIME_BASE_URL: server.url, RUNTIME_GATE_INTERNAL_TOKEN: DEV_INTERNAL_TOKEN, FAIL_ON_REQUIRED_FAILURE: '1' },
      }),
    );
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toContain(`validate-cutover: staging ${server.url} (mode gate)`);
    expect(result.stdout).toContain('validate-cutover: PROD_RUNTIME_BASE_URL not set; skipping prod');
    expect(result.stdout).toMatch(/^GO: /m);
    const evidence = evidenceOf(result.stdout);
    expect(evidence.dir).toMatch(/^reports\/\d{8}T\d{6}Z-staging$/);
    expect(created).toEqual([join(PACKAGE_ROOT, evidence.dir)]);
    const report = readReport(join(PACKAGE_ROOT, evidence.dir));
    expect(report).toMatchObject({ decision: 'GO', mode: 'gate' });
    expect(report.targets[0]).toMatchObject({ base_url: server.url, build_sha: 'dev', expected_build_sha: 'dev' });
    expect(result.all).not.toContain(DEV_INTERNAL_TOKEN);
  });

  it('FAIL_ON_REQUIRED_FAILURE=0 against a faulty target exits 0 with a NO-GO baseline report', async () => {
    const { result } = await trackingReports(() =>
      runCutoverScript(['--lanes', 'health', '--expected-build-sha', 'dev'], {
        env: { STAGING_RUNTIME_BASE_URL: failing.url, RUNTIME_GATE_INTERNAL_TOKEN: DEV_INTERNAL_TOKEN, FAIL_ON_REQUIRED_FAILURE: '0' },
      }),
    );
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toContain('(mode baseline)');
    expect(result.stdout).toMatch(/^NO-GO: .*health\.healthz\.status/m);
    const report = readReport(join(PACKAGE_ROOT, evidenceOf(result.stdout).dir));
    expect(report).toMatchObject({ decision: 'NO-GO', mode: 'baseline' });
  });

  it('FAIL_ON_REQUIRED_FAILURE=1 against the same faulty target exits 1', async () => {
    const { result } = await trackingReports(() =>
      runCutoverScript(['--lanes', 'health', '--expected-build-sha', 'dev'], {
        env: { STAGING_RUNTIME_BASE_URL: failing.url, RUNTIME_GATE_INTERNAL_TOKEN: DEV_INTERNAL_TOKEN, FAIL_ON_REQUIRED_FAILURE: '1' },
      }),
    );
    expect(result.code, describeRun(result)).toBe(1);
    expect(result.stdout).toMatch(/^NO-GO: /m);
  });

  it('neither URL set exits 2; FAIL_ON_REQUIRED_FAILURE=7 exits 2; nothing is written', async () => {
    const { result: noUrl, created: createdNoUrl } = await trackingReports(() => runCutoverScript([], { env: { RUNTIME_GATE_INTERNAL_TOKEN: DEV_INTERNAL_TOKEN } }));
    expect(noUrl.code, describeRun(noUrl)).toBe(2);
    expect(noUrl.stderr).toContain('validate-cutover: set STAGING_RUNTIME_BASE_URL and/or PROD_RUNTIME_BASE_URL');
    expect(createdNoUrl).toEqual([]);

    const { result: badFlag, created: createdBadFlag } = await trackingReports(() => runCutoverScript([], { env: { STAGING_RUNTIME_BASE_URL: server.url, FAIL_ON_REQUIRED_FAILURE: '7' } }));
    expect(badFlag.code, describeRun(badFlag)).toBe(2);
    expect(badFlag.stderr).toContain('validate-cutover: FAIL_ON_REQUIRED_FAILURE must be 0 or 1');
    expect(badFlag.stdout).not.toContain('validate-cutover: staging');
    expect(createdBadFlag).toEqual([]);
  });
});
