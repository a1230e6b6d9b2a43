/**
 * The khala lane against the reference server started with a `test` profile (small
 * budgets and retention, fast heartbeats): every check passes; then each check fails
 * against a faulty target that breaks its rule (HTTP faults and rewritten WS frames).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { type GateFixture, startGateFixture } from './gate-fixture.ts';
import { KHALA_TEST_PROFILE_ENV, khalaTestTarget } from './khala-profile.ts';

let fixture: GateFixture;
/** A second instance of the same deployment (same database) for K9. */
let node2: TestServer;
beforeAll(async () => {
  fixture = await startGateFixture('harness_khala', KHALA_TEST_PROFILE_ENV);
  node2 = await startTestServer(fixture.db, { LOG_LEVEL: 'warn', ...KHALA_TEST_PROFILE_ENV });
});
afterAll(async () => {
  await node2?.close();
  await fixture?.close();
});

describe('khala lane against a correct target', () => {
  it('passes every K1–K9 (K9 with node_urls), boundary and threat-model check on a test profile', async () => {
    const { runGate } = await import('../../harness/run-gate.ts');
    const run = await runGate({ candidate: fixture.candidate(fixture.upstream.url, khalaTestTarget({ node_urls: [node2.url] })), lanes: ['khala'], outDir: fixture.outDir() });
    const notPassed = run.report.checks.filter((c) => c.status !== 'passed').map((c) => `${c.check_id}: ${c.status} ${c.detail}`);
    for (const c of run.report.checks) console.log(c.check_id, c.status, c.duration_ms, c.detail.slice(0, 200));
    expect(notPassed).toEqual([]);
    expect(run.report.decision).toBe('GO');
  });
});
