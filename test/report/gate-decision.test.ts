import { describe, expect, it } from 'vitest';
import type { Check } from '../../contracts/generated/report.ts';
import { countTotals, decideGate, listFailingChecks, type ParitySummary } from '../../harness/report/gate-decision.ts';

function check(check_id: string, required: Check['required'], status: Check['status']): Check {
  return { check_id, lane: 'health', required, status, duration_ms: 1, description: '', log_path: '', detail: '' };
}

const allow: ParitySummary = { decision: 'allow', critical: 0, warning: 0 };
const block: ParitySummary = { decision: 'block', critical: 1, warning: 0, reason: '1 critical diff' };

describe('decideGate (SPEC §5, seed 003 go/no-go policy)', () => {
  const cases: [string, { checks: Check[]; mode: 'gate' | 'baseline'; parity?: ParitySummary; want: 'GO' | 'NO-GO'; blocking: string[] }][] = [
    ['every required check passed', { checks: [check('health.a.b', 'required', 'passed')], mode: 'gate', want: 'GO', blocking: [] }],
    // A GO means the required checks ran: nothing checked is never a GO.
    ['no checks at all', { checks: [], mode: 'gate', want: 'NO-GO', blocking: [] }],
    ['only optional checks, all passed', { checks: [check('health.a.b', 'optional', 'passed')], mode: 'gate', want: 'NO-GO', blocking: [] }],
    ['a required check failed', { checks: [check('health.a.b', 'required', 'failed')], mode: 'gate', want: 'NO-GO', blocking: ['health.a.b'] }],
    ['a required check errored', { checks: [check('health.a.b', 'required', 'error')], mode: 'gate', want: 'NO-GO', blocking: ['health.a.b'] }],
    ['a required check skipped in gate mode', { checks: [check('health.a.b', 'required', 'skipped')], mode: 'gate', want: 'NO-GO', blocking: ['health.a.b'] }],
    ['a required check skipped in baseline mode: same decision', { checks: [check('health.a.b', 'required', 'skipped')], mode: 'baseline', want: 'NO-GO', blocking: ['health.a.b'] }],
    [
      'optional checks failed, errored or skipped',
      {
        checks: [check('health.a.b', 'required', 'passed'), check('health.a.c', 'optional', 'failed'), check('health.a.d', 'optional', 'error'), check('health.a.e', 'optional', 'skipped')],
        mode: 'gate',
        want: 'GO',
        blocking: [],
      },
    ],
    ['parity allows', { checks: [check('health.a.b', 'required', 'passed')], mode: 'gate', parity: allow, want: 'GO', blocking: [] }],
    ['parity blocks with every check passed', { checks: [check('health.a.b', 'required', 'passed')], mode: 'gate', parity: block, want: 'NO-GO', blocking: [] }],
  ];
  it.each(cases)('%s', (_name, { checks, mode, parity, want, blocking }) => {
    const gate = decideGate(checks, mode, parity);
    expect(gate.decision).toBe(want);
    expect(gate.blocking).toEqual(blocking);
    expect(gate.reason).not.toBe('');
  });

  it('names the blocking checks and the parity reason', () => {
    const gate = decideGate([check('health.a.b', 'required', 'skipped'), check('health.a.c', 'required', 'failed')], 'gate', block);
    expect(gate.reason).toBe('2 required checks did not pass: health.a.b (skipped, not allowed in gate mode), health.a.c (failed); parity blocks (1 critical, 0 warning: 1 critical diff)');
  });

  it('lists at most five blocking checks in the reason', () => {
    const checks = Array.from({ length: 8 }, (_, i) => check(`health.a.c${i}`, 'required', 'failed'));
    expect(decideGate(checks, 'gate').reason).toMatch(/health\.a\.c4 \(failed\) and 3 more$/);
  });
});

describe('listFailingChecks', () => {
  const checks = [
    check('health.a.passed', 'required', 'passed'),
    check('health.a.failed', 'optional', 'failed'),
    check('health.a.error', 'required', 'error'),
    check('health.a.req-skip', 'required', 'skipped'),
    check('health.a.opt-skip', 'optional', 'skipped'),
  ];
  it('lists failed and error checks, and skipped required ones in gate mode', () => {
    expect(listFailingChecks(checks, 'gate').map((c) => c.check_id)).toEqual(['health.a.failed', 'health.a.error', 'health.a.req-skip']);
  });
  it('does not list skipped checks in baseline mode', () => {
    expect(listFailingChecks(checks, 'baseline').map((c) => c.check_id)).toEqual(['health.a.failed', 'health.a.error']);
  });
  it('counts totals per status', () => {
    expect(countTotals(checks)).toEqual({ passed: 1, failed: 1, error: 1, skipped: 2 });
  });
});
