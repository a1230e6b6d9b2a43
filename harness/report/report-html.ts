/**
 * report.html of a report folder (SPEC §5): one self-contained page — inline CSS and SVG,
 * no script, no font or image fetched, and a Content-Security-Policy that forbids any
 * request, so opening an archived report never touches the network.
 */
import type { Check, Report, Status } from '../../contracts/generated/report.ts';
import { listFailingChecks, listNotRun } from './gate-decision.ts';
import { summarizeLanes } from './lane-summary.ts';
import { formatMs, renderLatencyChartSvg, STATUS_COLORS } from './latency-chart-svg.ts';
import { escapeXmlAttribute as attr, escapeXmlText as text } from './markup-escape.ts';
import { renderSamplesSection, type TimingSamples } from './samples-section.ts';
import { decisionReason } from './summary-markdown.ts';

export interface ReportHtmlOptions {
  /** Contents of parity-report.json; its `gate`, `totals` and `diffs` are shown when present. */
  parityReport?: unknown;
  /** Parity diff rows drawn before the rest is only counted. Default 500. */
  maxParityDiffs?: number;
  /** Timing samples the lanes took (ms per series), drawn as the latency and replay table. */
  samples?: TimingSamples;
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #f6f8fa; }
main { max-width: 1040px; margin: 0 auto; padding: 0 24px 48px; }
.banner { color: #fff; padding: 28px 24px 24px; margin: 0 0 24px; }
.banner.go { background: #1a7f37; }
.banner.no-go { background: #cf222e; }
.banner.not-evaluated { background: #9a6700; }
.banner .inner { max-width: 992px; margin: 0 auto; }
.banner .decision { font-size: 72px; font-weight: 800; letter-spacing: 0.02em; line-height: 1; margin: 0; }
.banner .reason { font-size: 18px; margin: 12px 0 8px; white-space: pre-wrap; overflow-wrap: anywhere; }
.banner .meta { font-size: 13px; opacity: 0.9; }
.tiles { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
.tile { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 16px; min-width: 120px; }
.tile .n { font-size: 26px; font-weight: 700; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 16px 20px; margin-top: 20px; overflow-x: auto; }
h2 { font-size: 18px; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; color: #59636e; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
.detail { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 420px; }
.pill { display: inline-block; border-radius: 10px; padding: 1px 9px; color: #fff; font-size: 12px; font-weight: 600; }
.muted { color: #59636e; }
svg.latency-chart { display: block; max-width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1f2328; }
svg text.lane { font-weight: 700; font-size: 13px; }
svg text.axis, svg text.note { fill: #59636e; }
svg line.grid { stroke: #eaeef2; }
`;

/** Check statuses plus the words parity uses for its gate and diff severities. */
const PILL_COLORS: Record<string, string> = { ...STATUS_COLORS, allow: '#1a7f37', block: '#cf222e', critical: '#cf222e', warning: '#9a6700' };

function pill(status: string): string {
  const color = PILL_COLORS[status] ?? '#59636e';
  return `<span class="pill" style="background:${color}">${text(status)}</span>`;
}

function evidenceLink(logPath: string): string {
  if (logPath === '') return '<span class="muted">—</span>';
  // Only the writer's own relative log paths become links; anything else stays text.
  if (/^logs\/[A-Za-z0-9._-]+\.log$/.test(logPath)) return `<a class="mono" href="${attr(logPath)}">${text(logPath)}</a>`;
  return `<span class="mono">${text(logPath)}</span>`;
}

function tableHtml(header: readonly string[], rows: readonly string[]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${text(h)}</th>`).join('')}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function failingSection(report: Report): string {
  const failing = listFailingChecks(report.checks, report.mode);
  const rows = failing.map(
    (check: Check) =>
      `<tr><td class="mono">${text(check.check_id)}</td><td>${text(check.lane)}</td><td>${text(check.required)}</td><td>${pill(check.status)}</td><td class="detail">${text(check.detail || '—')}</td><td>${evidenceLink(check.log_path)}</td></tr>`,
  );
  const body = failing.length === 0 ? '<p class="muted">None.</p>' : tableHtml(['Check', 'Lane', 'Required', 'Status', 'Reason', 'Evidence'], rows);
  return `<section id="failing-checks"><h2>Failing checks (${failing.length})</h2>${body}</section>`;
}

function notRunSection(report: Report): string {
  const notRun = listNotRun(report);
  const rows = [
    ...notRun.lanes.map((lane) => `<tr><td>lane ${text(lane.lane)}</td><td>${lane.required ? 'required' : 'optional'}</td><td class="detail">${text(lane.reason)}</td></tr>`),
    ...notRun.checks.map((check) => `<tr><td class="mono">${text(check.check_id)}</td><td>${text(check.required)}</td><td class="detail">${text(check.detail || '—')}</td></tr>`),
  ];
  const body = rows.length === 0 ? '<p class="muted">Every lane ran and no check was skipped.</p>' : tableHtml(['Lane or check', 'Required', 'Reason'], rows);
  return `<section id="not-run"><h2>Not run (${notRun.lanes.length} lane(s), ${notRun.checks.length} check(s))</h2>${body}</section>`;
}

function lanesSection(report: Report): string {
  const rows = summarizeLanes(report).map(
    (lane) =>
      `<tr><td>${text(lane.lane)}</td><td>${lane.required ? 'required' : 'optional'}</td><td>${pill(lane.status)}</td>` +
      `<td class="num">${lane.counts.passed}</td><td class="num">${lane.counts.failed}</td><td class="num">${lane.counts.error}</td><td class="num">${lane.counts.skipped}</td>` +
      `<td class="num">${text(formatMs(lane.duration_ms))}</td><td class="detail">${text(lane.detail)}</td></tr>`,
  );
  const body = rows.length === 0 ? '<p class="muted">No lane ran.</p>' : tableHtml(['Lane', 'Required', 'Status', 'Passed', 'Failed', 'Error', 'Skipped', 'Time', 'Detail'], rows);
  return `<section id="lanes"><h2>Lanes</h2>${body}</section>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cellValue(value: unknown): string {
  const raw = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  return raw.length > 300 ? `${raw.slice(0, 299)}…` : raw;
}

/** Columns of the diff table: severity-like keys first, then the rest in order of appearance. */
function diffColumns(diffs: readonly Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const diff of diffs) for (const key of Object.keys(diff)) seen.add(key);
  const first = ['severity', 'classification', 'class', 'scenario', 'kind', 'path'].filter((key) => seen.has(key));
  return [...first, ...[...seen].filter((key) => !first.includes(key))];
}

function paritySection(parityReport: unknown, maxRows: number): string {
  const parts: string[] = [];
  const record = isRecord(parityReport) ? parityReport : {};
  const gate = isRecord(record.gate) ? record.gate : undefined;
  if (gate) {
    parts.push(`<p>Gate: ${pill(cellValue(gate.decision))} ${text(cellValue(gate.reason))}</p>`);
  }
  if (isRecord(record.totals)) {
    const totals = Object.entries(record.totals).map(([key, value]) => `${text(key)}: <strong>${text(cellValue(value))}</strong>`);
    parts.push(`<p>${totals.join(' · ')}</p>`);
  }
  const diffs = Array.isArray(record.diffs) ? record.diffs.filter(isRecord) : [];
  if (diffs.length === 0) {
    parts.push('<p class="muted">No parity diffs.</p>');
  } else {
    const columns = diffColumns(diffs);
    const rows = diffs.slice(0, maxRows).map((diff) => {
      const cells = columns.map((column) => {
        const value = cellValue(diff[column]);
        return column === 'severity' ? `<td>${pill(value)}</td>` : `<td class="detail mono">${text(value)}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    });
    parts.push(tableHtml(columns, rows));
    if (diffs.length > maxRows) parts.push(`<p class="muted">${diffs.length - maxRows} more diffs in parity-report.json.</p>`);
  }
  return `<section id="parity"><h2>Parity diffs (${diffs.length})</h2>${parts.join('\n')}</section>`;
}

function targetsSection(report: Report): string {
  const rows = report.targets.map(
    (target) =>
      `<tr><td>${text(target.role)}</td><td>${text(target.name)}</td><td class="mono">${text(target.base_url)}</td>` +
      `<td class="mono">${text(target.build_sha ?? 'unknown')}</td><td class="mono">${text(target.expected_build_sha ?? '—')}</td><td>${text(target.authority_write_mode ?? '—')}</td></tr>`,
  );
  const body = rows.length === 0 ? '<p class="muted">None recorded.</p>' : tableHtml(['Role', 'Name', 'Base URL', 'Build sha', 'Expected build sha', 'Write mode'], rows);
  return `<section id="targets"><h2>Targets</h2>${body}</section>`;
}

function digestsSection(report: Report): string {
  const entries = Object.entries(report.contract_digests).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const rows = entries.map(([path, digest]) => `<tr><td class="mono">${text(path)}</td><td class="mono">${text(digest)}</td></tr>`);
  const body = rows.length === 0 ? '<p class="muted">None recorded.</p>' : tableHtml(['Contract', 'sha256'], rows);
  return `<section id="contract-digests"><h2>Contract digests</h2>${body}</section>`;
}

/**
 * report.html text (SPEC §5): decision banner (GO green, NO-GO red) at the top, totals,
 * failing checks with evidence links, per-lane status, a latency chart (inline SVG), parity
 * diffs when `parityReport` is given, targets and contract digests.
 */
export function renderReportHtml(report: Report, options: ReportHtmlOptions = {}): string {
  const bannerClass = { GO: 'go', 'NO-GO': 'no-go', 'NOT-EVALUATED': 'not-evaluated' }[report.decision];
  const { totals } = report;
  const tile = (label: string, n: number, status?: Status) =>
    `<div class="tile"><div class="n"${status && n > 0 ? ` style="color:${STATUS_COLORS[status]}"` : ''}>${n}</div><div class="muted">${text(label)}</div></div>`;
  const meta = [
    `mode ${report.mode}`,
    `shard ${report.shard.index}/${report.shard.count}`,
    ...(report.run_id ? [`run ${report.run_id}`] : []),
    `harness ${report.harness_version}`,
    `${report.started_at} → ${report.finished_at}`,
  ];
  const sections = [
    failingSection(report),
    notRunSection(report),
    lanesSection(report),
    `<section id="latency"><h2>Latency per lane</h2>${renderLatencyChartSvg(report.checks)}</section>`,
    ...(options.samples !== undefined ? [renderSamplesSection(options.samples)] : []),
    ...(options.parityReport !== undefined ? [paritySection(options.parityReport, options.maxParityDiffs ?? 500)] : []),
    targetsSection(report),
    digestsSection(report),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attr(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text(`runtime-gate ${report.decision}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header id="decision" class="banner ${bannerClass}"><div class="inner">
<p class="decision" data-decision="${attr(report.decision)}">${text(report.decision)}</p>
<p class="reason">${text(decisionReason(report))}</p>
<div class="meta">${text(meta.join(' · '))}</div>
</div></header>
<main>
<div class="tiles">${tile('checks', report.checks.length)}${tile('passed', totals.passed, 'passed')}${tile('failed', totals.failed, 'failed')}${tile('error', totals.error, 'error')}${tile('skipped', totals.skipped, 'skipped')}</div>
${sections.join('\n')}
</main>
</body>
</html>
`;
}
