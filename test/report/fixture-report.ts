/**
 * Fixed report fixtures for the report-layer tests: every status, required and optional
 * checks, a detail with a tab, a newline and backslashes, a Markdown pipe, parity with
 * diffs. Deterministic, so golden files stay stable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Check, Report } from '../../contracts/generated/report.ts';
import { buildParityReport, paritySummaryOf } from '../../harness/parity/parity-report.ts';
import { countTotals, decideGate } from '../../harness/report/gate-decision.ts';
import { logPathFor } from '../../harness/report/report-validation.ts';

export interface Fixture {
  report: Report;
  logs: Map<string, string>;
  parityReport?: unknown;
}

type CheckSpec = Omit<Check, 'log_path' | 'description'> & { description?: string; log?: string };

/** The detail the golden files pin: a tab, a newline and backslashes. */
export const TRICKY_DETAIL = 'expected stale_cursor for resume_after seq 41\tgot update_batch\nframe path C:\\runs\\k6 (\\n is not a newline)';

const CHECKS: CheckSpec[] = [
  { check_id: 'health.healthz.status-ok', lane: 'health', required: 'required', status: 'passed', duration_ms: 12, detail: '', log: 'GET /healthz -> 200\n' },
  { check_id: 'health.readyz.ledger-matches', lane: 'health', required: 'required', status: 'passed', duration_ms: 35, detail: '', log: 'GET /readyz -> 200\n' },
  { check_id: 'contract.openapi.no-breaking-change', lane: 'contract', required: 'required', status: 'passed', duration_ms: 410, detail: '' },
  { check_id: 'khala.k4.exact-resume', lane: 'khala', required: 'required', status: 'passed', duration_ms: 1250, detail: '', log: 'subscribe resume_after=40\n' },
  {
    check_id: 'khala.k6.budget-boundary',
    lane: 'khala',
    required: 'required',
    status: 'failed',
    duration_ms: 2310,
    detail: TRICKY_DETAIL,
    log: '> {"type":"subscribe","request_id":"r1"}\n< {"type":"update_batch"}\n',
  },
  { check_id: 'khala.k9.multi-node', lane: 'khala', required: 'optional', status: 'skipped', duration_ms: 0, detail: 'missing_input:node_urls' },
  {
    check_id: 'credit.cep.settle-replay',
    lane: 'credit',
    required: 'required',
    status: 'error',
    duration_ms: 30000,
    detail: 'deadline of 30000 ms exceeded waiting for POST /internal/v1/credit/settle <no response> & retry',
    log: 'POST /internal/v1/credit/settle (no response after 30000 ms)\n',
  },
  { check_id: 'drift.ledger.image-lock', lane: 'drift', required: 'required', status: 'skipped', duration_ms: 0, detail: 'missing_input:db_url' },
  {
    check_id: 'observability.metrics.no-5xx',
    lane: 'observability',
    required: 'optional',
    status: 'failed',
    duration_ms: 88,
    detail: '2 responses with status 500 | route POST /internal/v1/runs',
    log: 'runtime_http_requests_total{route="/internal/v1/runs",status="500"} 2\n',
  },
  { check_id: 'parity.scenario.happy-path', lane: 'parity', required: 'required', status: 'passed', duration_ms: 5400, detail: '', log: 'ledgers equal: 42 events\n' },
];

/** A schema-valid parity-report.json (built the way the parity lane builds it): two warnings, allowed. */
const PARITY_REPORT = buildParityReport({
  seed: 1,
  policy: { path: 'contracts/parity-policy.json', sha256: 'c'.repeat(64) },
  baseline: { name: 'reference-b', base_url: 'http://127.0.0.1:4101', build_sha: 'dev' },
  candidate: { name: 'staging', base_url: 'https://runtime-staging.example.test', build_sha: '3f2a9c1d0e7b' },
  comparisons: [
    { scenario: 'happy-path', status: 'compared', events_compared: 42, baseline_events: 42, candidate_events: 42, critical: 0, warning: 1, ignored: 0 },
    { scenario: 'credit-flow', status: 'compared', events_compared: 9, baseline_events: 9, candidate_events: 9, critical: 0, warning: 1, ignored: 0 },
  ],
  diffs: [
    { severity: 'warning', scenario: 'happy-path', component: 'ws', key: 'ws replay from 0: update', index: 3, path: '$.events[3].payload.note', change: 'changed', baseline: 'ok', candidate: 'OK', message: 'payload note differs in case' },
    { severity: 'warning', scenario: 'credit-flow', component: 'http', key: 'POST /internal/v1/credit/settle', index: 7, path: '$.settle.fee_sats', change: 'changed', baseline: 1, candidate: 2, message: 'fee differs' },
  ],
  counted: { critical: 0, warning: 2, ignored: 0 },
  settings: { maxWarnings: 2, blockOnCritical: true },
  now: new Date('2026-01-15T09:31:00.000Z'),
});

function toCheck(spec: CheckSpec): Check {
  const { log, description, ...rest } = spec;
  return { ...rest, description: description ?? `${spec.check_id} (fixture)`, log_path: log === undefined ? '' : logPathFor(spec.check_id) };
}

/** A report around `specs` with totals and decision computed as the runner would. */
export function buildReport(checks: Check[], overrides: Partial<Report> = {}): Report {
  const base: Report = {
    schema: 'runtime-gate.report.v1',
    run_id: '20260115T093000Z',
    decision: 'GO',
    mode: 'gate',
    shard: { index: 1, count: 1 },
    harness_version: '0.1.0',
    contract_digests: {
      'contracts/runtime.openapi.yaml': 'a'.repeat(64),
      'contracts/khala.asyncapi.yaml': '0123456789abcdef'.repeat(4),
      'contracts/report.schema.json': 'f'.repeat(64),
    },
    targets: [
      { role: 'candidate', name: 'staging', base_url: 'https://runtime-staging.example.test', build_sha: '3f2a9c1d0e7b', expected_build_sha: '3f2a9c1d0e7b', authority_write_mode: 'rust_active', profile: 'live' },
      { role: 'baseline', name: 'reference-b', base_url: 'http://127.0.0.1:4101', build_sha: 'dev', authority_write_mode: 'rust_active', profile: 'test' },
    ],
    checks,
    totals: countTotals(checks),
    started_at: '2026-01-15T09:30:00.000Z',
    finished_at: '2026-01-15T09:31:02.500Z',
    ...overrides,
  };
  const gate = decideGate(base.checks, base.mode, base.parity);
  return { ...base, totals: countTotals(base.checks), decision: gate.decision, decision_reason: gate.reason };
}

function logsOf(specs: readonly CheckSpec[]): Map<string, string> {
  return new Map(specs.filter((spec) => spec.log !== undefined).map((spec) => [spec.check_id, spec.log as string]));
}

/** The NO-GO fixture: every status, parity allowing with two warnings. */
export function buildFixture(): Fixture {
  const report = buildReport(CHECKS.map(toCheck), {
    parity: paritySummaryOf(PARITY_REPORT),
    lanes: [{ lane: 'drift', required: true, status: 'skipped', detail: 'missing_input:db_url' }],
  });
  return { report, logs: logsOf(CHECKS), parityReport: structuredClone(PARITY_REPORT) };
}

/** A GO fixture: the fixture's checks, all passed, no parity. */
export function buildGoFixture(): Fixture {
  const specs = CHECKS.filter((spec) => spec.lane !== 'parity').map((spec) => ({ ...spec, status: 'passed' as const, detail: '' }));
  return { report: buildReport(specs.map(toCheck)), logs: logsOf(specs) };
}

/**
 * Splits a fixture into `count` shard fixtures (round robin by check), each with its own
 * totals and decision; parity goes with the shard that holds the parity checks.
 */
export function splitIntoShards(fixture: Fixture, count: number): Fixture[] {
  return Array.from({ length: count }, (_, i) => {
    const checks = fixture.report.checks.filter((_check, index) => index % count === i);
    const hasParity = checks.some((check) => check.lane === 'parity');
    const { parity: _parity, lanes: _lanes, ...rest } = fixture.report;
    const report = buildReport(checks, {
      ...rest,
      checks,
      shard: { index: i + 1, count },
      ...(hasParity && fixture.report.parity ? { parity: fixture.report.parity } : {}),
    });
    const logs = new Map([...fixture.logs].filter(([checkId]) => checks.some((check) => check.check_id === checkId)));
    return { report, logs, ...(hasParity && fixture.parityReport !== undefined ? { parityReport: fixture.parityReport } : {}) };
  });
}

/** Temp dirs removed by {@link removeTempDirs} (call it in afterAll). */
const tempDirs: string[] = [];

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `runtime-gate-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
