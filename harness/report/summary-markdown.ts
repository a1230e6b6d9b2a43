/**
 * SUMMARY.md of a report folder (SPEC §5, seed 003): the decision first, then what failed
 * and where its evidence is, then lanes, targets and contract digests.
 */
import type { Check, Report } from '../../contracts/generated/report.ts';
import { decideGate, listFailingChecks, listNotRun } from './gate-decision.ts';
import { summarizeLanes } from './lane-summary.ts';

export interface SummaryMarkdownOptions {
  /** Whether the folder holds parity-report.json (listed under "Files"). Default false. */
  hasParityReport?: boolean;
}

/**
 * One GFM table cell: Markdown-significant characters escaped, a pipe never splits the
 * cell, newlines become `<br>` and a tab stays a tab.
 * @see SPEC §5
 */
export function markdownCell(value: string): string {
  if (value === '') return '—';
  return value
    .replace(/\r\n?/g, '\n')
    .replace(/[\\`*_[\]<>|#~]/g, (char) => `\\${char}`)
    .replace(/&/g, '&amp;')
    .replace(/\n/g, '<br>');
}

/** A code span when the value allows one, else an escaped cell. */
function markdownCode(value: string): string {
  if (value === '') return '—';
  if (/[`\n\r]/.test(value)) return markdownCell(value);
  return `\`${value.replace(/\|/g, '\\|')}\``;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function runDuration(report: Pick<Report, 'started_at' | 'finished_at'>): string {
  const ms = Date.parse(report.finished_at) - Date.parse(report.started_at);
  return Number.isFinite(ms) && ms >= 0 ? ` (${formatDuration(ms)})` : '';
}

/**
 * The decision's reason: the runner's `decision_reason`, else {@link decideGate}'s.
 * @see SPEC §5
 */
export function decisionReason(report: Report): string {
  return report.decision_reason ?? decideGate(report.checks, report.mode, report.parity).reason;
}

/**
 * SUMMARY.md text (SPEC §5): decision and reason first; then failing checks (failed or error,
 * and skipped required ones in gate mode) with their reason (detail) and evidence path
 * (log_path); then per-lane status; targets with build shas; contract digests.
 */
export function renderSummaryMarkdown(report: Report, options: SummaryMarkdownOptions = {}): string {
  const lines: string[] = [];
  const { totals } = report;
  const total = totals.passed + totals.failed + totals.error + totals.skipped;

  lines.push(`# ${report.decision} — runtime-gate validate`, '');
  lines.push(`**Decision: ${report.decision}** — ${markdownCell(decisionReason(report))}`, '');
  const modeNote =
    report.mode === 'gate'
      ? 'release gating: required checks may not be skipped'
      : 'baseline capture: the same decision is recorded, the exit code does not gate';
  lines.push(`- Mode: \`${report.mode}\` (${modeNote})`);
  lines.push(`- Shard: ${report.shard.index}/${report.shard.count}`);
  if (report.run_id) lines.push(`- Run: ${markdownCode(report.run_id)}`);
  lines.push(`- Harness: ${markdownCode(report.harness_version)}`);
  lines.push(`- Started: ${report.started_at} · finished: ${report.finished_at}${runDuration(report)}`);
  lines.push(
    `- Checks: ${total} (${totals.passed} passed, ${totals.failed} failed, ${totals.error} error, ${totals.skipped} skipped)`,
  );
  if (report.parity) {
    const { parity } = report;
    const reason = parity.reason ? `: ${markdownCell(parity.reason)}` : '';
    lines.push(`- Parity: ${parity.decision} (${parity.critical} critical, ${parity.warning} warning)${reason}`);
  }
  lines.push('');

  const failing = listFailingChecks(report.checks, report.mode);
  lines.push(`## Failing checks (${failing.length})`, '');
  if (failing.length === 0) {
    lines.push('None.');
  } else {
    lines.push(
      ...table(
        ['Check', 'Lane', 'Required', 'Status', 'Reason', 'Evidence'],
        failing.map((check: Check) => [
          markdownCode(check.check_id),
          check.lane,
          check.required,
          check.status,
          markdownCell(check.detail),
          markdownCode(check.log_path),
        ]),
      ),
    );
  }
  lines.push('');

  const notRun = listNotRun(report);
  lines.push(`## Not run (${notRun.lanes.length} lane(s), ${notRun.checks.length} check(s))`, '');
  if (notRun.lanes.length === 0 && notRun.checks.length === 0) {
    lines.push('Every lane ran and no check was skipped.');
  } else {
    lines.push(
      ...table(
        ['Lane or check', 'Required', 'Reason'],
        [
          ...notRun.lanes.map((lane) => [`lane ${lane.lane}`, lane.required ? 'required' : 'optional', markdownCell(lane.reason)]),
          ...notRun.checks.map((check) => [markdownCode(check.check_id), check.required, markdownCell(check.detail)]),
        ],
      ),
    );
  }
  lines.push('');

  lines.push('## Lanes', '');
  const lanes = summarizeLanes(report);
  if (lanes.length === 0) {
    lines.push('No lane ran.');
  } else {
    lines.push(
      ...table(
        ['Lane', 'Required', 'Status', 'Passed', 'Failed', 'Error', 'Skipped', 'Time', 'Detail'],
        lanes.map((lane) => [
          lane.lane,
          lane.required ? 'required' : 'optional',
          lane.status,
          String(lane.counts.passed),
          String(lane.counts.failed),
          String(lane.counts.error),
          String(lane.counts.skipped),
          formatDuration(lane.duration_ms),
          markdownCell(lane.detail),
        ]),
      ),
    );
  }
  lines.push('');

  lines.push('## Targets', '');
  if (report.targets.length === 0) {
    lines.push('None recorded.');
  } else {
    lines.push(
      ...table(
        ['Role', 'Name', 'Base URL', 'Build sha', 'Expected build sha', 'Write mode'],
        report.targets.map((target) => [
          target.role,
          markdownCell(target.name),
          markdownCode(target.base_url),
          target.build_sha ? markdownCode(target.build_sha) : 'unknown',
          target.expected_build_sha ? markdownCode(target.expected_build_sha) : '—',
          markdownCell(target.authority_write_mode ?? ''),
        ]),
      ),
    );
  }
  lines.push('');

  lines.push('## Contract digests', '');
  const digests = Object.entries(report.contract_digests).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (digests.length === 0) {
    lines.push('None recorded.');
  } else {
    lines.push(...table(['Contract', 'sha256'], digests.map(([path, digest]) => [markdownCode(path), `\`${digest}\``])));
  }
  lines.push('');

  lines.push('## Files', '');
  lines.push(
    '`report.json` (the full report), `results.tsv` (one row per check), `junit.xml`, `report.html`, ' +
      `\`logs/<check_id>.log\` (evidence per check)${options.hasParityReport ? ', `parity-report.json`' : ''}. ` +
      '`MANIFEST.sha256` lists the sha256 of every other file: check it with ' +
      '`runtime-gate report verify <folder>` or `sha256sum -c MANIFEST.sha256` inside the folder.',
  );
  lines.push('');
  return lines.join('\n');
}
