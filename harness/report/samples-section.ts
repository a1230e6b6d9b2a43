/**
 * The "latency and replay" part of report.html (SPEC §5): the timing samples lanes took
 * while they ran (e.g. GET /healthz round trips, Khala replays from seq 0, cross-node
 * delivery), one row per series with n, p50, p99 and max, and an inline SVG bar of
 * p50 (solid) and p99 (light) on a shared scale. No script, nothing fetched.
 */
import { formatMs } from './latency-chart-svg.ts';
import { escapeXmlAttribute as attr, escapeXmlText as text } from './markup-escape.ts';

/** Milliseconds per series label. */
export type TimingSamples = Readonly<Record<string, readonly number[]>>;

/** The p-th percentile (nearest rank) of ascending `sorted` samples. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const BAR_WIDTH = 240;

export function renderSamplesSection(samples: TimingSamples): string {
  const series = Object.entries(samples)
    .filter(([, values]) => values.length > 0)
    .map(([label, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { label, n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
    })
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  if (series.length === 0) return '<section id="samples"><h2>Latency and replay samples</h2><p class="muted">No timing samples were taken in this run.</p></section>';
  const scale = Math.max(...series.map((s) => s.p99), 1);
  const rows = series.map((s) => {
    const p50 = Math.max(1, Math.round((s.p50 / scale) * BAR_WIDTH));
    const p99 = Math.max(1, Math.round((s.p99 / scale) * BAR_WIDTH));
    const bar = `<svg width="${BAR_WIDTH}" height="14" role="img" aria-label="${attr(`p50 ${formatMs(s.p50)}, p99 ${formatMs(s.p99)}`)}"><rect x="0" y="2" width="${p99}" height="10" fill="#9ecbff"/><rect x="0" y="2" width="${p50}" height="10" fill="#0969da"/></svg>`;
    return `<tr><td>${text(s.label)}</td><td>${s.n}</td><td>${text(formatMs(s.p50))}</td><td>${text(formatMs(s.p99))}</td><td>${text(formatMs(s.max))}</td><td>${bar}</td></tr>`;
  });
  return `<section id="samples"><h2>Latency and replay samples</h2><table><thead><tr><th>Series</th><th>n</th><th>p50</th><th>p99</th><th>max</th><th>p50 / p99</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}
