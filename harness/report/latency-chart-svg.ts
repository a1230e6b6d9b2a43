/**
 * The latency chart of report.html (SPEC §5 "latency … charts"): inline SVG, no script, one
 * group per lane with a bar per check (slowest first), coloured by status.
 */
import type { Check, Status } from '../../contracts/generated/report.ts';
import { summarizeLanes } from './lane-summary.ts';
import { escapeXmlAttribute, escapeXmlText } from './markup-escape.ts';

export interface LatencyChartOptions {
  /** Bars drawn per lane; the faster rest is counted in one line. Default 25. */
  maxBarsPerLane?: number;
  /** Total width in px. Default 960. */
  width?: number;
}

/** Colour per check status, shared by the chart and report.html's status pills. */
export const STATUS_COLORS: Record<Status, string> = {
  passed: '#1a7f37',
  failed: '#cf222e',
  error: '#9a6700',
  skipped: '#8c959f',
};

const LABEL_WIDTH = 280;
const VALUE_WIDTH = 90;
const AXIS_HEIGHT = 28;
const LANE_HEIGHT = 26;
const BAR_HEIGHT = 18;
const LEGEND_HEIGHT = 26;

/** A 1-2-5 × 10^k tick step giving about five ticks up to `max` (≥ 1 ms). */
function tickStep(max: number): number {
  const rough = Math.max(1, max / 5);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  for (const step of [1, 2, 5, 10]) {
    if (step * magnitude >= rough) return step * magnitude;
  }
  return 10 * magnitude;
}

/**
 * `850 ms`, `2.3 s`, `125 s`.
 * @see SPEC §5
 */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return ms >= 100_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * An `<svg>` element drawing each check's `duration_ms` per lane (SPEC §5). Pure: the
 * same checks always give the same markup.
 */
export function renderLatencyChartSvg(checks: readonly Check[], options: LatencyChartOptions = {}): string {
  const maxBars = options.maxBarsPerLane ?? 25;
  const width = options.width ?? 960;
  const plotWidth = width - LABEL_WIDTH - VALUE_WIDTH;
  const lanes = summarizeLanes({ checks: [...checks] });
  const longest = checks.reduce((max, check) => Math.max(max, check.duration_ms), 0);
  const step = tickStep(longest);
  const scaleMax = step * Math.max(1, Math.ceil(longest / step));
  const x = (ms: number) => LABEL_WIDTH + (ms / scaleMax) * plotWidth;

  const body: string[] = [];
  let y = LEGEND_HEIGHT + AXIS_HEIGHT;
  for (const lane of lanes) {
    body.push(
      `<text class="lane" x="0" y="${y + 17}">${escapeXmlText(lane.lane)}</text>`,
      `<text class="value" x="${width}" y="${y + 17}" text-anchor="end">${escapeXmlText(`${lane.checks.length} ${lane.checks.length === 1 ? 'check' : 'checks'} · ${formatMs(lane.duration_ms)}`)}</text>`,
    );
    y += LANE_HEIGHT;
    const sorted = [...lane.checks].sort((a, b) => b.duration_ms - a.duration_ms);
    for (const check of sorted.slice(0, maxBars)) {
      const label = check.check_id.startsWith(`${lane.lane}.`) ? check.check_id.slice(lane.lane.length + 1) : check.check_id;
      const barWidth = Math.max(check.duration_ms > 0 ? 1 : 0, x(check.duration_ms) - LABEL_WIDTH);
      const tooltip = `${check.check_id}: ${check.duration_ms} ms, ${check.status} (${check.required})`;
      body.push(
        `<g><title>${escapeXmlText(tooltip)}</title>` +
          `<text class="label" x="12" y="${y + 13}">${escapeXmlText(truncate(label, 40))}</text>` +
          `<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT - 6}" rx="2" fill="${STATUS_COLORS[check.status]}"/>` +
          `<text class="value" x="${(LABEL_WIDTH + barWidth + 6).toFixed(1)}" y="${y + 13}">${escapeXmlText(formatMs(check.duration_ms))}</text></g>`,
      );
      y += BAR_HEIGHT;
    }
    if (sorted.length > maxBars) {
      body.push(`<text class="note" x="12" y="${y + 13}">${sorted.length - maxBars} faster checks not drawn</text>`);
      y += BAR_HEIGHT;
    }
    y += 6;
  }
  if (lanes.length === 0) {
    body.push(`<text class="note" x="0" y="${y + 16}">No checks ran.</text>`);
    y += LANE_HEIGHT;
  }
  const height = y + 4;

  const axis: string[] = [];
  for (let ms = 0; ms <= scaleMax; ms += step) {
    const gx = x(ms).toFixed(1);
    axis.push(
      `<line class="grid" x1="${gx}" y1="${LEGEND_HEIGHT + AXIS_HEIGHT - 6}" x2="${gx}" y2="${height}"/>`,
      `<text class="axis" x="${gx}" y="${LEGEND_HEIGHT + AXIS_HEIGHT - 10}" text-anchor="middle">${escapeXmlText(formatMs(Math.round(ms)))}</text>`,
    );
  }
  const legend = (Object.keys(STATUS_COLORS) as Status[]).map((status, i) => {
    const lx = LABEL_WIDTH + i * 100;
    return `<rect x="${lx}" y="6" width="12" height="12" rx="2" fill="${STATUS_COLORS[status]}"/><text class="axis" x="${lx + 18}" y="16">${status}</text>`;
  });

  return [
    `<svg class="latency-chart" role="img" aria-label="${escapeXmlAttribute('Check durations per lane')}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    '<title>Check durations per lane (ms)</title>',
    ...legend,
    ...axis,
    ...body,
    '</svg>',
  ].join('\n');
}
