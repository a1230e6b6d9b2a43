/**
 * The other side of "every lane must be able to fail": against the correct reference
 * server every check passes (GO, an intact report folder); --no-writes and a read_only
 * target turn the write checks into optional skips with a reason; and every check id
 * the harness defines has a test in this folder that makes it fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReportFolder } from '../../harness/report/index.ts';
import { listChecks, runGate } from '../../harness/run-gate.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { type GateFixture, startGateFixture } from './gate-fixture.ts';
import { KHALA_TEST_PROFILE_ENV, khalaTestTarget } from './khala-profile.ts';

let fixture: GateFixture;
let readOnly: TestServer;
/** A second instance of the same deployment, so K9 runs in the GO run. */
let node2: TestServer;
beforeAll(async () => {
  checkLines = await listChecks();
  // A test profile (small budgets) so the khala boundary checks run too.
  fixture = await startGateFixture('harness_decisions', KHALA_TEST_PROFILE_ENV);
  node2 = await startTestServer(fixture.db, { LOG_LEVEL: 'warn', ...KHALA_TEST_PROFILE_ENV });
  // A second instance on the same database that refuses writes (503 write_path_frozen).
  readOnly = await startTestServer(fixture.db, { LOG_LEVEL: 'warn', RUNTIME_AUTHORITY_WRITE_MODE: 'read_only' });
});
afterAll(async () => {
  await node2?.close();
  await readOnly?.close();
  await fixture?.close();
});

const IMPLEMENTED_LANES = ['health', 'contract', 'khala', 'credit', 'observability'];
let checkLines: string[] = [];
const definedChecks = () => checkLines.map((line) => line.split('\t')) as [string, string, string][];
const writeChecks = () => definedChecks().filter(([id, required]) => required.includes('(writes)') && IMPLEMENTED_LANES.includes(id.split('.')[0]!)).map(([id]) => id);
// Local CPU work (the contract linter) must not race a tiny deadline in the GO runs.
const CHECK_TIMEOUT_MS = 15_000;

describe('runGate against the correct reference server', () => {
  it('passes every check: GO, exit code 0, and the report folder verifies', async () => {
    const run = await runGate({ candidate: fixture.candidate(fixture.upstream.url, khalaTestTarget({ name: 'reference', expected_build_sha: 'dev', node_urls: [node2.url] })), outDir: join(fixture.outDir(), 'go'), checkTimeoutMs: CHECK_TIMEOUT_MS });
    const implemented = run.report.checks.filter((c) => IMPLEMENTED_LANES.includes(c.lane));
    expect(implemented.filter((c) => c.status !== 'passed').map((c) => `${c.check_id}: ${c.status} ${c.detail}`)).toEqual([]);
    expect(implemented.map((c) => c.check_id).sort()).toEqual(definedChecks().filter(([id]) => IMPLEMENTED_LANES.includes(id.split('.')[0]!)).map(([id]) => id).sort());
    // Required, except K4's seam-duplicate check: K2 allows redelivery, so it is optional by design (contracts/KHALA_ORDERING.md#k4).
    expect(implemented.filter((c) => c.required !== 'required').map((c) => c.check_id)).toEqual(['khala.k4.no-seam-duplicate']);
    expect(run.report.decision).toBe('GO');
    expect(run.exitCode).toBe(0);
    expect(run.report.targets[0]).toMatchObject({ build_sha: 'dev', expected_build_sha: 'dev', authority_write_mode: 'rust_active' });
    const verified = verifyReportFolder(run.dir);
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    expect(run.evidence).toContain(verified.manifestSha256);
    expect(readFileSync(join(run.dir, 'SUMMARY.md'), 'utf8')).toMatch(/^# GO\b[\s\S]*## Failing checks \(0\)/);
  });

  it('--no-writes skips every write check as optional, with the reason, and is still GO', async () => {
    const run = await runGate({ candidate: fixture.candidate(fixture.upstream.url, { expected_build_sha: 'dev' }), outDir: join(fixture.outDir(), 'no-writes'), noWrites: true, checkTimeoutMs: CHECK_TIMEOUT_MS });
    const writes = writeChecks();
    expect(writes.length).toBeGreaterThan(0);
    for (const id of writes) {
      expect(run.report.checks.find((c) => c.check_id === id)).toMatchObject({ status: 'skipped', required: 'optional', detail: 'write check skipped: --no-writes' });
    }
    expect(run.report.checks.filter((c) => !writes.includes(c.check_id) && IMPLEMENTED_LANES.includes(c.lane)).every((c) => c.status === 'passed' && c.required === 'required')).toBe(true);
    expect(run.report.decision).toBe('GO');
  });

  it('a read_only target cannot switch write checks off: they stay required and block, naming --no-writes; with --no-writes it is GO', async () => {
    const run = await runGate({ candidate: fixture.candidate(readOnly.url, { expected_build_sha: 'dev' }), outDir: join(fixture.outDir(), 'read-only'), checkTimeoutMs: CHECK_TIMEOUT_MS });
    expect(run.report.targets[0]?.authority_write_mode).toBe('read_only');
    const refused = 'write check not run: the target refuses writes (authority_write_mode read_only, not rust_active); give --no-writes to gate its read checks only';
    for (const id of writeChecks()) {
      expect(run.report.checks.find((c) => c.check_id === id)).toMatchObject({ status: 'skipped', detail: refused });
    }
    expect(run.report.checks.filter((c) => c.detail === refused && c.required === 'required').length).toBeGreaterThan(10);
    expect(run.report.decision).toBe('NO-GO');
    expect(run.exitCode).toBe(1);
    const allowed = await runGate({ candidate: fixture.candidate(readOnly.url, { expected_build_sha: 'dev' }), outDir: join(fixture.outDir(), 'read-only-no-writes'), noWrites: true, checkTimeoutMs: CHECK_TIMEOUT_MS });
    expect(allowed.report.decision).toBe('GO');
  });
});

describe('every lane must be able to fail', () => {
  it('every check id the harness defines has a failing-target test in test/harness', () => {
    const dir = import.meta.dirname;
    const sources = readdirSync(dir).filter((f) => f.endsWith('.int.test.ts') && f !== 'gate-decisions.int.test.ts').map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    const missing = definedChecks().map(([id]) => id).filter((id) => IMPLEMENTED_LANES.includes(id.split('.')[0]!) && !sources.includes(`'${id}'`));
    expect(missing).toEqual([]);
  });
});
