/**
 * The go/no-go rule (SPEC §5, seed 003 "Go/No-Go policy"), shared by the lane runner and
 * `report merge` so a merged decision is computed exactly like a single run's.
 */
import type { Check, Decision, Report } from '../../contracts/generated/report.ts';

export type GateMode = Report['mode'];
export type ParitySummary = NonNullable<Report['parity']>;
export type LaneNotRun = NonNullable<Report['lanes_not_run']>[number];

/** `drift (missing_input:db_url), env (required, missing_input:env_file)`: for decision lines. */
export function formatLanesNotRun(lanes: readonly LaneNotRun[]): string {
  return lanes.map((lane) => `${lane.lane} (${lane.required ? 'required, ' : ''}${lane.reason})`).join(', ');
}

export interface GateDecision {
  decision: Decision;
  /** One line for `decision_reason` and the top of SUMMARY.md. */
  reason: string;
  /** check_ids of the required checks that did not pass, in report order. */
  blocking: string[];
}

const REASON_LIST_LIMIT = 5;

/**
 * GO iff every required check `passed` and parity (when it ran) allows (SPEC §5).
 * A required check that is `failed`, `error` or `skipped` blocks: in `gate` mode a skipped
 * required check is a failure (seed 003 policy 2). `baseline` mode records the very same
 * decision; only the CLI's exit code differs (`FAIL_ON_REQUIRED_FAILURE=0`), so `mode`
 * changes the wording of the reason, never the decision.
 */
export function decideGate(checks: readonly Check[], mode: GateMode, parity?: ParitySummary | null, lanesNotRun: readonly LaneNotRun[] = [], run: { shard?: { count: number } } = {}): GateDecision {
  const blockingChecks = checks.filter((check) => check.required === 'required' && check.status !== 'passed');
  const reasons: string[] = [];
  if (blockingChecks.length > 0) {
    const listed = blockingChecks
      .slice(0, REASON_LIST_LIMIT)
      .map((check) => `${check.check_id} (${check.status}${check.status === 'skipped' && mode === 'gate' ? ', not allowed in gate mode' : ''})`);
    const more = blockingChecks.length > REASON_LIST_LIMIT ? ` and ${blockingChecks.length - REASON_LIST_LIMIT} more` : '';
    const noun = blockingChecks.length === 1 ? 'required check' : 'required checks';
    reasons.push(`${blockingChecks.length} ${noun} did not pass: ${listed.join(', ')}${more}`);
  }
  if (parity && parity.decision !== 'allow') {
    reasons.push(`parity blocks (${parity.critical} critical, ${parity.warning} warning${parity.reason ? `: ${parity.reason}` : ''})`);
  }
  const required = checks.filter((check) => check.required === 'required').length;
  // A GO means the required checks ran: a run that checked nothing required gates nothing.
  // (One shard of several may hold no check: `report merge` decides over all of them.)
  if (required === 0 && (run.shard?.count ?? 1) === 1) reasons.push('no required check ran, so nothing was gated');
  const notRun = lanesNotRun.length > 0 ? `; lanes not run: ${formatLanesNotRun(lanesNotRun)}` : '';
  if (reasons.length > 0) {
    return { decision: 'NO-GO', reason: `${reasons.join('; ')}${notRun}`, blocking: blockingChecks.map((check) => check.check_id) };
  }
  const parityNote = parity ? '; parity allows' : '';
  return { decision: 'GO', reason: `all ${required} required checks passed${parityNote}${notRun}`, blocking: [] };
}

/**
 * The checks SUMMARY.md and report.html list as failing (SPEC §5): every `failed` or
 * `error` check (optional ones too, marked as such), and in `gate` mode every required
 * check that was `skipped`.
 */
export function listFailingChecks(checks: readonly Check[], mode: GateMode): Check[] {
  return checks.filter(
    (check) =>
      check.status === 'failed' ||
      check.status === 'error' ||
      (mode === 'gate' && check.status === 'skipped' && check.required === 'required'),
  );
}

/** `totals` of report.json (SPEC §2.6): how many checks have each status. */
export function countTotals(checks: readonly Check[]): Report['totals'] {
  const totals = { passed: 0, failed: 0, skipped: 0, error: 0 };
  for (const check of checks) totals[check.status] += 1;
  return totals;
}

/**
 * What a report did not evaluate, for SUMMARY.md and report.html: every lane that did not
 * run and every other skipped check, each with its reason (a GO says nothing about them).
 */
export function listNotRun(report: Pick<Report, 'checks' | 'lanes_not_run'>): { lanes: LaneNotRun[]; checks: Check[] } {
  const lanes = report.lanes_not_run ?? [];
  const notRunLanes = new Set(lanes.map((lane) => lane.lane));
  return { lanes, checks: report.checks.filter((check) => check.status === 'skipped' && !(notRunLanes.has(check.lane) && check.check_id === `${check.lane}.lane.inputs`)) };
}

/** A run that ran only a selection of checks says so in its decision line. */
export function withSelection<T extends { reason: string }>(decision: T, selection: readonly string[] | undefined): T {
  return selection ? { ...decision, reason: `${decision.reason}; only checks selected by --checks ${selection.join(',')} ran` } : decision;
}

/** The CLI's exit code: 0 GO, 1 NO-GO (0 in baseline mode, which records without gating), 3 NOT-EVALUATED in every mode. */
export function exitCodeOf(decision: Decision, mode: GateMode): 0 | 1 | 3 {
  if (decision === 'NOT-EVALUATED') return 3;
  return decision === 'GO' || mode === 'baseline' ? 0 : 1;
}
