/**
 * Per-lane status, as shown by SUMMARY.md, report.html and junit.xml (SPEC §5 "per-lane
 * status"). The runner's `lanes[]` entries win when present; lanes without one are derived
 * from their checks.
 */
import type { Check, Lane, Report, Status } from '../../contracts/generated/report.ts';

export interface LaneSummary {
  lane: Lane;
  required: boolean;
  status: Status;
  detail: string;
  checks: Check[];
  counts: Record<Status, number>;
  duration_ms: number;
}

/**
 * A lane's status from its checks: `error` or `failed` when any check is; otherwise
 * `skipped` when a required check was skipped or nothing ran; otherwise `passed`.
 * @see SPEC §5
 */
export function deriveLaneStatus(checks: readonly Check[]): Status {
  if (checks.some((check) => check.status === 'error')) return 'error';
  if (checks.some((check) => check.status === 'failed')) return 'failed';
  if (checks.some((check) => check.status === 'skipped' && check.required === 'required')) return 'skipped';
  // A lane of which no check ran (none selected, or all skipped) did not pass.
  if (checks.every((check) => check.status === 'skipped')) return 'skipped';
  return 'passed';
}

/**
 * Lanes in order of first appearance (checks first, then `lanes[]` entries without checks),
 * each with its checks, status counts and summed duration (SPEC §5).
 */
export function summarizeLanes(report: Pick<Report, 'checks' | 'lanes'>): LaneSummary[] {
  const byLane = new Map<Lane, Check[]>();
  for (const check of report.checks) {
    const list = byLane.get(check.lane) ?? [];
    list.push(check);
    byLane.set(check.lane, list);
  }
  for (const entry of report.lanes ?? []) {
    if (!byLane.has(entry.lane)) byLane.set(entry.lane, []);
  }
  const declared = new Map((report.lanes ?? []).map((entry) => [entry.lane, entry]));
  return [...byLane].map(([lane, checks]) => {
    const counts: Record<Status, number> = { passed: 0, failed: 0, skipped: 0, error: 0 };
    let duration = 0;
    for (const check of checks) {
      counts[check.status] += 1;
      duration += check.duration_ms;
    }
    const entry = declared.get(lane);
    return {
      lane,
      required: entry?.required ?? checks.some((check) => check.required === 'required'),
      status: entry?.status ?? deriveLaneStatus(checks),
      detail: entry?.detail ?? '',
      checks,
      counts,
      duration_ms: duration,
    };
  });
}
