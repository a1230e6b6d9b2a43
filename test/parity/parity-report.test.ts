/**
 * parity-report.json: the parity gate's rule (table-driven), the schema it is validated
 * against before it is written, and the merge of shard reports.
 */
import { describe, expect, it } from 'vitest';
import type { ParityDiff } from '../../harness/parity/compare-ledgers.ts';
import {
  buildParityReport,
  decideParityGate,
  mergeParityReports,
  type ParityComparison,
  type ParityGateSettings,
  ParityReportError,
  paritySummaryOf,
  validateParityReport,
} from '../../harness/parity/parity-report.ts';

const compared = (scenario: string, critical = 0, warning = 0): ParityComparison => ({ scenario, status: 'compared', events_compared: 10, baseline_events: 10, candidate_events: 10, critical, warning, ignored: 0 });
const diff = (severity: 'critical' | 'warning', scenario = 'happy-path'): ParityDiff => ({ severity, scenario, component: 'runs', key: 'get run', index: 3, path: '/status', change: 'changed', baseline: 200, candidate: 500, message: 'x' });

function report(comparisons: ParityComparison[], settings: ParityGateSettings = { maxWarnings: 0, blockOnCritical: true }) {
  const diffs = comparisons.flatMap((c) => [...Array.from({ length: c.critical }, () => diff('critical', c.scenario)), ...Array.from({ length: c.warning }, () => diff('warning', c.scenario))]);
  return buildParityReport({
    seed: 1,
    policy: { path: 'contracts/parity-policy.json', sha256: 'a'.repeat(64) },
    baseline: { name: 'baseline', base_url: 'http://127.0.0.1:1', build_sha: 'dev' },
    candidate: { name: 'candidate', base_url: 'http://127.0.0.1:2', build_sha: null },
    comparisons,
    diffs,
    counted: { critical: diffs.filter((d) => d.severity === 'critical').length, warning: diffs.filter((d) => d.severity === 'warning').length, ignored: 0 },
    settings,
    now: new Date('2026-01-15T09:30:00Z'),
  });
}

describe('decideParityGate', () => {
  const totals = (critical: number, warning: number, comparisons = 5) => ({ critical, warning, comparisons, events_compared: 100 });
  it.each([
    ['no diffs', totals(0, 0), { maxWarnings: 0, blockOnCritical: true }, 'allow', /5 comparisons, 100 observations compared; no warning diffs/],
    ['one critical', totals(1, 0), { maxWarnings: 10, blockOnCritical: true }, 'block', /1 critical diff \(a critical diff always blocks\)/],
    ['one critical, blocking off', totals(1, 0), { maxWarnings: 0, blockOnCritical: false }, 'allow', /1 critical diff not blocking/],
    ['warnings within', totals(0, 2), { maxWarnings: 2, blockOnCritical: true }, 'allow', /2 warning diffs within --max-warnings 2/],
    ['warnings above', totals(0, 3), { maxWarnings: 2, blockOnCritical: true }, 'block', /3 warning diffs, more than --max-warnings 2/],
    ['both', totals(2, 1), { maxWarnings: 0, blockOnCritical: true }, 'block', /2 critical diffs .*; 1 warning diff, more than/],
    ['nothing compared', totals(0, 0, 0), { maxWarnings: 0, blockOnCritical: true }, 'block', /nothing was compared/],
    ['nothing compared in one shard', totals(0, 0, 0), { maxWarnings: 0, blockOnCritical: true, requireComparisons: false }, 'allow', /nothing compared in this shard/],
  ] as const)('%s → %s', (_name, given, settings, decision, reason) => {
    const gate = decideParityGate(given, settings);
    expect(gate.decision).toBe(decision);
    expect(gate.reason).toMatch(reason);
    expect(gate).toMatchObject({ max_warnings: settings.maxWarnings, block_on_critical: settings.blockOnCritical });
  });
});

describe('buildParityReport', () => {
  it('builds a report that validates against contracts/parity-report.schema.json, with totals and a summary', () => {
    const r = report([compared('happy-path', 0, 1), compared('cancel'), { ...compared('stale-cursor'), status: 'skipped', reason: 'live', events_compared: 0 }], { maxWarnings: 1, blockOnCritical: true });
    expect(validateParityReport(r)).toEqual([]);
    expect(r).toMatchObject({ schema: 'runtime-gate.parity.v1', mode: 'scenarios', totals: { comparisons: 2, events_compared: 20, warning: 1, diffs_stored: 1, diffs_omitted: 0 } });
    expect(paritySummaryOf(r)).toEqual({ decision: 'allow', reason: r.gate.reason, critical: 0, warning: 1 });
  });

  it('the schema rejects what a consumer could not read', () => {
    const r = report([compared('happy-path')]);
    expect(validateParityReport({ ...r, schema: 'runtime-gate.parity.v0' })).not.toEqual([]);
    expect(validateParityReport({ ...r, gate: { ...r.gate, decision: 'maybe' } })).not.toEqual([]);
    expect(validateParityReport({ ...r, diffs: [{ ...diff('warning'), severity: 'ignore' }] })).not.toEqual([]);
    const { totals: _, ...withoutTotals } = r;
    expect(validateParityReport(withoutTotals)).not.toEqual([]);
  });
});

describe('mergeParityReports', () => {
  it('sums the shards and decides again: warnings split across shards count against one budget', () => {
    const settings = { maxWarnings: 2, blockOnCritical: true, requireComparisons: false };
    const one = report([compared('happy-path', 0, 2)], settings);
    const two = report([compared('cancel', 0, 1)], settings);
    expect([one.gate.decision, two.gate.decision]).toEqual(['allow', 'allow']);
    const merged = mergeParityReports([one, two]);
    expect(validateParityReport(merged)).toEqual([]);
    expect(merged.comparisons.map((c) => c.scenario)).toEqual(['happy-path', 'cancel']);
    expect(merged.totals).toMatchObject({ comparisons: 2, warning: 3, diffs_stored: 3 });
    expect(merged.gate).toMatchObject({ decision: 'block', max_warnings: 2 });
  });

  it('refuses shards of different runs (other candidate, other gate settings)', () => {
    const one = report([compared('happy-path')]);
    expect(() => mergeParityReports([one, { ...one, candidate: { ...one.candidate, base_url: 'http://elsewhere' } }])).toThrow(ParityReportError);
    expect(() => mergeParityReports([one, { ...one, gate: { ...one.gate, max_warnings: 5 } }])).toThrow(/gate settings/);
  });
});
