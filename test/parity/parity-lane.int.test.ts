/**
 * The parity lane against two real reference servers on two databases: identical
 * targets allow and GO; a candidate that changes one thing — a status code, a frame's
 * stale-cursor reasons, a missing event — fails the scenario that saw it, blocks parity
 * and makes the run NO-GO.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateParityReport } from '../../harness/parity/parity-report.ts';
import { PARITY_SCENARIOS } from '../../harness/scenarios/index.ts';
import { describeChecks, type ParityFixture, startParityFixture } from './parity-fixture.ts';

let fixture: ParityFixture;

beforeAll(async () => {
  fixture = await startParityFixture('parity_lane');
});
afterAll(async () => {
  await fixture?.close();
});

const SCENARIO_CHECKS = PARITY_SCENARIOS.map((s) => `parity.scenario.${s.name}`);

function failingSection(dir: string): string {
  const summary = readFileSync(join(dir, 'SUMMARY.md'), 'utf8');
  return summary.split(/^## Failing checks/m)[1]?.split(/^## /m)[0] ?? '';
}

describe('parity lane (SPEC §4 parity)', () => {
  it('identical targets: every scenario compares equal, parity allows, GO', async () => {
    const run = await fixture.run();
    expect(run.report.decision, describeChecks(run)).toBe('GO');
    expect(run.exitCode).toBe(0);
    for (const id of [...SCENARIO_CHECKS, 'parity.gate.decision']) {
      expect(run.check(id).status, `${id}: ${run.check(id).detail}`).toBe('passed');
      expect(run.check(id).required).toBe('required');
    }
    expect(validateParityReport(run.parity)).toEqual([]);
    expect(run.parity.gate).toMatchObject({ decision: 'allow', max_warnings: 0, block_on_critical: true });
    expect(run.parity.totals).toMatchObject({ comparisons: PARITY_SCENARIOS.length, critical: 0, warning: 0 });
    expect(run.parity.comparisons.map((c) => c.scenario)).toEqual(PARITY_SCENARIOS.map((s) => s.name));
    for (const comparison of run.parity.comparisons) {
      expect(comparison.events_compared, comparison.scenario).toBeGreaterThan(5);
      expect(comparison.baseline_events).toBe(comparison.candidate_events);
    }
    expect(run.parity.baseline).toMatchObject({ name: 'baseline', base_url: fixture.baseline.upstream.url, build_sha: 'dev' });
    expect(run.report.parity).toEqual({ decision: 'allow', reason: run.parity.gate.reason, critical: 0, warning: 0 });
    expect(run.report.targets.map((t) => t.role)).toEqual(['candidate', 'baseline']);
    expect(run.report.targets[1]).toMatchObject({ base_url: fixture.baseline.upstream.url, build_sha: 'dev', authority_write_mode: 'rust_active', profile: 'test' });
  });

  it('a different status code (cancel replay answers 202, not 200) is critical: the cancel scenario fails, parity blocks, NO-GO', async () => {
    const run = await fixture.run({ faults: [{ method: 'POST', path: /\/cancel$/, after: 1, times: 1, status: 202 }] });
    const cancel = run.check('parity.scenario.cancel');
    expect(cancel.status, describeChecks(run)).toBe('failed');
    expect(cancel.detail).toMatch(/cancel again #\d+: \/status expected 200, got 202/);
    for (const id of SCENARIO_CHECKS.filter((id) => id !== 'parity.scenario.cancel')) expect(run.check(id).status, `${id}: ${run.check(id).detail}`).toBe('passed');
    expect(run.check('parity.gate.decision').status).toBe('failed');
    expect(run.parity.gate.decision).toBe('block');
    expect(run.parity.diffs).toEqual([expect.objectContaining({ severity: 'critical', scenario: 'cancel', component: 'runs', key: 'cancel again', path: '/status', change: 'changed', baseline: 200, candidate: 202 })]);
    expect(run.report).toMatchObject({ decision: 'NO-GO', parity: { decision: 'block', critical: 1, warning: 0 } });
    expect(run.report.decision_reason).toMatch(/parity blocks \(1 critical/);
    expect(run.exitCode).toBe(1);
    expect(failingSection(run.dir)).toContain('`parity.scenario.cancel`');
  });

  it('frame changes over WebSocket: other stale-cursor reasons and a missing event are critical in the scenarios that saw them', async () => {
    const run = await fixture.run({
      wsFaults: [
        { serverFrame: (f) => [f.type === 'error' && f.code === 'stale_cursor' ? { ...f, details: { ...f.details, reason_codes: ['retention_floor_breach'] } } : f] },
        { serverFrame: (f) => [f.type === 'update_batch' ? { ...f, updates: f.updates.filter((u: { event_type: string }) => u.event_type !== 'run.cancel_requested') } : f] },
      ],
    });
    const stale = run.check('parity.scenario.stale-cursor');
    expect(stale.status, describeChecks(run)).toBe('failed');
    expect(stale.detail).toMatch(/error stale_cursor #\d+: \/details\/reason_codes\/0 expected "replay_budget_exceeded", got "retention_floor_breach"/);
    const cancel = run.check('parity.scenario.cancel');
    expect(cancel.status, describeChecks(run)).toBe('failed');
    // The candidate never delivers the cancel event: where the baseline applied it, the candidate's consumer ended.
    expect(cancel.detail).toMatch(/ws replay from 0: (expected ws replay from 0: update, got ws replay from 0: end|update)/);
    const cancelDiffs = run.parity.diffs.filter((d) => d.scenario === 'cancel');
    expect(cancelDiffs.some((d) => d.path === '' && d.key === 'ws replay from 0: update')).toBe(true);
    expect(run.check('parity.scenario.happy-path').status).toBe('passed');
    expect(run.report.decision).toBe('NO-GO');
    expect(run.parity.totals.critical).toBeGreaterThanOrEqual(2);
  });
});
