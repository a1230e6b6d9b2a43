/**
 * The parity gate (SPEC §5): warning diffs count against --max-warnings (default 0),
 * a critical diff blocks unless --block-on-critical is off; and `report merge` decides
 * parity again over the shards' summed diffs (one check per scenario, so --shard i/n
 * spreads the lane over shards).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeReportFolders } from '../../harness/report/merge-reports.ts';
import { type Fault, startFaultyTarget } from '../support/faulty-target.ts';
import { describeChecks, type ParityFixture, startParityFixture } from './parity-fixture.ts';

let fixture: ParityFixture;

beforeAll(async () => {
  fixture = await startParityFixture('parity_gate');
});
afterAll(async () => {
  await fixture?.close();
});

/**
 * Rewords the error message of every rejected event append: a warning diff each —
 * happy-path has two (conflict, invalid body), cancel one (append after cancel).
 */
const REWORDED: Fault[] = [
  {
    method: 'POST',
    path: /\/internal\/v1\/runs\/[^/]+\/events$/,
    json: (body) => (body?.error ? { ...body, error: { ...body.error, message: `reworded: ${body.error.message}` } } : body),
  },
];

describe('parity gate (SPEC §5 --max-warnings, --block-on-critical)', () => {
  it('warning diffs within --max-warnings allow (GO); the same run with the default 0 blocks (NO-GO)', async () => {
    const within = await fixture.run({ faults: REWORDED, gate: { maxWarnings: 3 } });
    expect(within.report.decision, describeChecks(within)).toBe('GO');
    expect(within.parity.gate).toMatchObject({ decision: 'allow', max_warnings: 3 });
    expect(within.parity.totals).toMatchObject({ critical: 0, warning: 3 });
    expect(within.parity.diffs.every((d) => d.severity === 'warning' && d.path === '/body/error/message')).toBe(true);
    expect(within.check('parity.scenario.happy-path').detail).toMatch(/0 critical, 2 warning/);
    expect(within.check('parity.gate.decision').detail).toMatch(/3 warning diffs within --max-warnings 3/);

    const above = await fixture.run({ faults: REWORDED });
    expect(above.report.decision).toBe('NO-GO');
    expect(above.exitCode).toBe(1);
    // The scenarios themselves pass (warnings are not failures); the gate check blocks.
    expect(above.check('parity.scenario.happy-path').status).toBe('passed');
    expect(above.check('parity.scenario.cancel').status).toBe('passed');
    expect(above.check('parity.gate.decision')).toMatchObject({ status: 'failed', required: 'required' });
    expect(above.check('parity.gate.decision').detail).toMatch(/3 warning diffs, more than --max-warnings 0/);
    expect(above.report.parity).toMatchObject({ decision: 'block', critical: 0, warning: 3 });
  });

  it('with --block-on-critical off a critical diff is reported but does not block', async () => {
    const run = await fixture.run({ faults: [{ method: 'POST', path: /\/cancel$/, after: 1, times: 1, status: 202 }], gate: { blockOnCritical: false } });
    expect(run.report.decision, describeChecks(run)).toBe('GO');
    expect(run.check('parity.scenario.cancel').status).toBe('passed');
    expect(run.parity.gate).toMatchObject({ decision: 'allow', block_on_critical: false });
    expect(run.parity.gate.reason).toMatch(/1 critical diff not blocking/);
    expect(run.report.parity).toMatchObject({ decision: 'allow', critical: 1 });
  });

  it('report merge: shards that each allow locally are merged into one parity decision over all their warnings', async () => {
    const proxy = await startFaultyTarget(fixture.candidate.upstream.url, REWORDED);
    try {
      const shards = [];
      for (const index of [1, 2]) shards.push(await fixture.run({ proxy, gate: { maxWarnings: 2, shard: { index, count: 2 } } }));
      expect(shards.map((s) => s.report.decision), shards.map(describeChecks).join('\n')).toEqual(['GO', 'GO']);
      expect(shards.map((s) => s.parity.totals.warning)).toEqual([2, 1]);
      expect(shards.map((s) => s.parity.comparisons.map((c) => c.scenario))).toEqual([
        ['happy-path', 'resume-disconnects', 'credit-flow'],
        ['cancel', 'stale-cursor'],
      ]);
      const merged = mergeReportFolders(
        shards.map((s) => s.dir),
        join(fixture.candidate.outDir(), 'merged'),
      );
      expect(merged.report.decision).toBe('NO-GO');
      expect(merged.report.parity).toMatchObject({ decision: 'block', critical: 0, warning: 3 });
      expect(merged.report.decision_reason).toMatch(/parity blocks .*3 warning diffs, more than --max-warnings 2/);
    } finally {
      await proxy.close();
    }
  });

  it('a baseline that answers 5xx is no reference: equal 500s on both sides are an error, never parity', async () => {
    const broken: Fault[] = [{ method: 'POST', path: /\/cancel$/, status: 500, json: () => ({ error: { code: 'internal_error', message: 'internal error' } }) }];
    const baselineProxy = await startFaultyTarget(fixture.baseline.upstream.url, broken);
    try {
      const baselineWs = `${fixture.baseline.upstream.url.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
      const run = await fixture.run({ faults: broken, gate: { baseline: fixture.baselineSpec({ base_url: baselineProxy.url, ws_url: baselineWs }) } });
      const cancel = run.check('parity.scenario.cancel');
      expect(cancel.status, describeChecks(run)).toBe('error');
      expect(cancel.detail).toMatch(/the baseline answered 2 request\(s\) with a server error .*cancel: POST .*\/cancel → 500/);
      expect(run.check('parity.scenario.happy-path').status).toBe('passed');
      expect(run.report.decision).toBe('NO-GO');
    } finally {
      await baselineProxy.close();
    }
  });
});
