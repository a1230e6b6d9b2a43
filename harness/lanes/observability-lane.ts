/**
 * The observability lane (SPEC §4): /metrics scraped before and after the run; no
 * 5xx during the run (from the target's own counters and from every answer the
 * harness saw); the documented series present.
 */
import { type CheckDefinition, expectThat } from '../check-runner.ts';
import { failOnViolations } from './violations.ts';

const REQUIRED_SERIES = ['runtime_http_requests_total', 'khala_deliveries_total', 'khala_replays_total', 'khala_stale_cursors_total', 'khala_evictions_total'];

/** Sums runtime_http_requests_total samples with a 5xx status label. */
export function count5xx(text: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^runtime_http_requests_total\{([^}]*)\}\s+([0-9.e+]+)/.exec(line);
    if (match && /status="5\d\d"/.test(match[1]!)) total += Number(match[2]);
  }
  return total;
}

export function observabilityLane(): CheckDefinition[] {
  return [
    {
      id: 'observability.metrics.scrape-before',
      lane: 'observability',
      phase: 'first',
      description: 'GET /metrics answers Prometheus text with the documented series before the run',
      async run({ http }) {
        const r = await http.request({ method: 'GET', path: '/metrics' });
        expectThat(r.status === 200, `GET /metrics: expected 200, got ${r.status}`);
        const missing = REQUIRED_SERIES.filter((name) => !new RegExp(`^# (HELP|TYPE) ${name}\\b`, 'm').test(r.text));
        expectThat(missing.length === 0, `GET /metrics lacks ${missing.join(', ')}`);
        return `5xx so far: ${count5xx(r.text)}`;
      },
    },
    {
      id: 'observability.run.no-5xx',
      lane: 'observability',
      phase: 'last',
      description: 'no 5xx during the run: not in the target\'s runtime_http_requests_total delta, not in any answer the harness saw',
      async run(ctx) {
        const { http, run } = ctx;
        const seen = run.exchanges.filter((e) => e.status >= 500 && e.check_id !== 'observability.run.no-5xx');
        failOnViolations(
          ctx,
          seen.map((e) => `${e.method} ${e.path} → ${e.status} (in ${e.check_id})`),
          'the target answered 5xx during the run',
        );
        const r = await http.request({ method: 'GET', path: '/metrics' });
        expectThat(r.status === 200, `GET /metrics: expected 200, got ${r.status}`);
        const before = run.metrics5xxBefore;
        expectThat(typeof before === 'number', 'the preflight could not scrape /metrics, so the 5xx counter has no value from before the run');
        const after = count5xx(r.text);
        expectThat(after === before, `runtime_http_requests_total 5xx rose from ${before} to ${after} during the run`);
        return `0 5xx among ${run.exchanges.length} answers; target counter ${before} → ${after}`;
      },
    },
  ];
}
