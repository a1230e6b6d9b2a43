/**
 * "Every lane must be able to fail": each observability check fails against a faulty
 * proxy in front of a real reference server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lane } from '../../contracts/generated/report.ts';
import type { Fault } from '../support/faulty-target.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from './gate-fixture.ts';

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('harness_observability');
});
afterAll(async () => {
  await fixture?.close();
});

const METRICS = /^\/metrics$/;
/** Drops every line of one series (HELP, TYPE and samples). */
const withoutSeries = (name: string) => (text: string) => text.split('\n').filter((line) => !line.includes(name)).join('\n');

const cases: [string, string, Lane[], Fault[], RegExp][] = [
  ['observability.metrics.scrape-before', 'a missing /metrics series', ['observability'], [{ method: 'GET', path: METRICS, rewriteText: withoutSeries('khala_evictions_total') }], /lacks khala_evictions_total/],
  ['observability.metrics.scrape-before', '/metrics answers 404', ['observability'], [{ method: 'GET', path: METRICS, status: 404, text: 'not found', contentType: 'text/plain' }], /expected 200, got 404/],
  ['observability.metrics.scrape-before', 'hung /metrics', ['observability'], [{ method: 'GET', path: METRICS, hang: true }], /deadline/],
  ['observability.run.no-5xx', 'a 5xx answer during the run (one /readyz 500)', ['health', 'observability'], [{ method: 'GET', path: /^\/readyz$/, after: 1, times: 1, status: 500, json: () => ({ error: { code: 'internal', message: 'boom' } }) }], /answered 5xx during the run: GET \/readyz → 500 \(in health\.readyz\.ready\)/],
  [
    'observability.run.no-5xx',
    "the target's own 5xx counter rises during the run",
    ['observability'],
    [{ method: 'GET', path: METRICS, after: 1, rewriteText: (text) => `${text}\nruntime_http_requests_total{route="/internal/v1/runs",status="503"} 2\n` }],
    /5xx rose from 0 to 2 during the run/,
  ],
];

describe('observability lane: every check can fail', () => {
  it.each(cases)('%s fails on %s', async (checkId, _name, lanes, faults, reason) => {
    const run = await fixture.runFaulty(faults, { lanes, target: { expected_build_sha: 'dev' } });
    for (const [i, fault] of faults.entries()) if (!fault.hang) expect(run.proxy.applied[i], `fault ${i} was applied`).toBeGreaterThan(0);
    expectCheckFails(run, checkId, reason);
  });
});
