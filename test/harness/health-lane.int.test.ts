/**
 * "Every lane must be able to fail": each health check fails against a faulty proxy in
 * front of a real reference server, and the run is NO-GO naming it in SUMMARY.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lane } from '../../contracts/generated/report.ts';
import { loadContractMigrations } from '../../contracts/contract-files.ts';
import { LATENCY_P95_LIMIT_MS, LATENCY_SAMPLES, latestContractMigration } from '../../harness/lanes/health-lane.ts';
import type { TargetSpec } from '../../harness/target.ts';
import type { Fault } from '../support/faulty-target.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from './gate-fixture.ts';

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('harness_health');
});
afterAll(async () => {
  await fixture?.close();
});

interface Case {
  faults: Fault[];
  reason: RegExp;
  target?: Partial<TargetSpec>;
  checkTimeoutMs?: number;
}

const lanes: Lane[] = ['health'];
const OLDEST_MIGRATION = loadContractMigrations()[0]!.version;
const LATEST_MIGRATION = latestContractMigration()!;

const cases: [string, string, Case][] = [
  ['health.healthz.status', 'wrong status code: /healthz answers 503', { faults: [{ method: 'GET', path: /^\/healthz$/, status: 503 }], reason: /expected 200, got 503/ }],
  ['health.healthz.status', 'missing response field: /healthz without status', { faults: [{ method: 'GET', path: /^\/healthz$/, json: ({ status: _, ...rest }) => rest }], reason: /\$\.status expected "ok", got undefined/ }],
  ['health.healthz.status', 'hung endpoint: /healthz never answers', { faults: [{ method: 'GET', path: /^\/healthz$/, hang: true }], reason: /deadline|no answer/ }],
  ['health.readyz.ready', '/readyz 503 not_ready', { faults: [{ method: 'GET', path: /^\/readyz$/, status: 503, json: () => ({ status: 'not_ready', reasons: ['migration_missing:0004_x'] }) }], reason: /expected 200, got 503: migration_missing:0004_x/ }],
  ['health.readyz.ready', 'an old schema_version (not the latest contract migration)', { faults: [{ method: 'GET', path: /^\/readyz$/, json: (b) => ({ ...b, schema_version: OLDEST_MIGRATION }) }], reason: new RegExp(`schema_version "${OLDEST_MIGRATION}", expected ${LATEST_MIGRATION}, the latest contract migration`) }],
  ['health.readyz.ready', 'a schema_version that is no contract migration', { faults: [{ method: 'GET', path: /^\/readyz$/, json: (b) => ({ ...b, schema_version: '9999_from_the_future' }) }], reason: /schema_version "9999_from_the_future", expected / }],
  ['health.readyz.ready', 'a text/plain answer', { faults: [{ method: 'GET', path: /^\/readyz$/, text: 'ready', contentType: 'text/plain' }], reason: /GET \/readyz 200: content-type text\/plain, expected application\/json/ }],
  ['health.readyz.ready', 'the right JSON under text/plain', { faults: [{ method: 'GET', path: /^\/readyz$/, contentType: 'text/plain; charset=utf-8' }], reason: /content-type text\/plain; charset=utf-8, expected application\/json/ }],
  ['health.readyz.ready', 'a body that is not the documented ReadyzResponse', { faults: [{ method: 'GET', path: /^\/readyz$/, json: (b) => ({ ...b, status: 'ok', migrations: 3 }) }], reason: /GET \/readyz 200: \$\.status must be equal to constant/ }],
  ['health.internal.schema', 'missing response field: config_fingerprint', { faults: [{ method: 'GET', path: /^\/internal\/v1\/health$/, json: ({ config_fingerprint: _, ...rest }) => rest }], reason: /config_fingerprint/ }],
  ['health.internal.schema', 'non-JSON body under a JSON content-type', { faults: [{ method: 'GET', path: /^\/internal\/v1\/health$/, text: '<html>bad gateway</html>' }], reason: /./ }],
  ['health.build-sha.expected', 'wrong build sha (expected_build_sha differs from the running build)', { faults: [], target: { expected_build_sha: '0123abc' }, reason: /build_sha "dev", expected 0123abc/ }],
  // p95 of 20 samples is the 19th: two slow answers are enough. The deadline is raised so
  // that the latency rule, not the per-check deadline, is what fails.
  ['health.latency.healthz-p95', `slow /healthz (3 of ${LATENCY_SAMPLES} samples over ${LATENCY_P95_LIMIT_MS} ms)`, { faults: [{ method: 'GET', path: /^\/healthz$/, after: 2, times: 3, delayMs: LATENCY_P95_LIMIT_MS + 100 }], checkTimeoutMs: 8000, reason: new RegExp(`p95 \\d+ ms exceeds ${LATENCY_P95_LIMIT_MS} ms`) }],
];

describe('health lane: the latest contract migration', () => {
  it('is the highest version of contracts/migrations, and not the oldest (so the old-schema_version case tests something)', () => {
    const versions = loadContractMigrations().map((m) => m.version);
    expect(LATEST_MIGRATION).toBe([...versions].sort().at(-1));
    expect(LATEST_MIGRATION).not.toBe(OLDEST_MIGRATION);
  });
});

describe('health lane: the correct reference server passes', () => {
  it('every health check passes; /readyz has the latest contract migration as schema_version', async () => {
    const run = await fixture.runFaulty([], { lanes, target: { expected_build_sha: 'dev' }, checkTimeoutMs: 15_000 });
    expect(run.report.checks.filter((c) => c.status !== 'passed').map((c) => `${c.check_id}: ${c.status} ${c.detail}`)).toEqual([]);
    expect(run.check('health.readyz.ready').detail).toBe(`schema_version=${LATEST_MIGRATION}`);
    expect(run.report.decision).toBe('GO');
  });
});

describe('health lane: every check can fail', () => {
  it.each(cases)('%s fails on %s', async (checkId, _name, c) => {
    const run = await fixture.runFaulty(c.faults, { lanes, ...(c.target ? { target: c.target } : {}), ...(c.checkTimeoutMs ? { checkTimeoutMs: c.checkTimeoutMs } : {}) });
    for (const [i, fault] of c.faults.entries()) if (!fault.hang) expect(run.proxy.applied[i], `fault ${i} was applied`).toBeGreaterThan(0);
    expectCheckFails(run, checkId, c.reason);
  });
});
