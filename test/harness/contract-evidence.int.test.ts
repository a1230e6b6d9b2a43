/**
 * Evidence in full and exact contract checks, against a faulty proxy in front of a real
 * reference server: every violation a check finds is in report.json `evidence` and in
 * its log (not only the first 10); response headers the contract declares are checked
 * (429 needs a valid Retry-After, contracts/runtime.openapi.yaml
 * `#/components/headers/RetryAfter`); media types are compared exactly
 * (contracts/media-type.ts). The same runs through the proxy without faults pass.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check, Report } from '../../contracts/generated/report.ts';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { negativeRequests } from '../../harness/contract/negative-inputs.ts';
import { LATENCY_SAMPLES } from '../../harness/lanes/health-lane.ts';
import type { Fault } from '../support/faulty-target.ts';
import { expectCheckFails, type GateFixture, type GateRun, startGateFixture } from './gate-fixture.ts';

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('harness_contract_evidence');
});
afterAll(async () => {
  await fixture?.close();
});

const MATCH = 'contract.responses.match-schemas';
const APPEND_NEGATIVE = 'contract.negative.append-run-event';
const EVENTS = /^\/internal\/v1\/runs\/[^/]+\/events$/;
const CREDIT_HEALTH = /^\/internal\/v1\/credit\/health$/;

/** Every bad body but the oversize one (a body over 64 KiB, whose 413 may come before the upload ends). */
const small = (request: { text: string }) => request.text.length < 64 * 1024;

/** The check as written to report.json on disk, and its log file. */
function written(run: GateRun, id: string): { check: Check; log: string } {
  const report = JSON.parse(readFileSync(join(run.dir, 'report.json'), 'utf8')) as Report;
  const check = report.checks.find((c) => c.check_id === id);
  expect(check, `${id} is in report.json`).toBeDefined();
  return { check: check!, log: readFileSync(join(run.dir, check!.log_path), 'utf8') };
}

describe('every violation is evidence: report.json and the log have all of them', () => {
  it(`${LATENCY_SAMPLES + 1} schema-breaking /healthz answers are all in the evidence of ${MATCH}`, async () => {
    // HealthzResponse requires `service`: every /healthz answer the lanes get breaks the contract.
    const faults: Fault[] = [{ method: 'GET', path: /^\/healthz$/, json: ({ service: _, ...rest }) => rest }];
    const run = await fixture.runFaulty(faults, { lanes: ['health', 'contract'], checks: ['health.healthz.status', 'health.latency.healthz-p95', MATCH] });
    // health.healthz.status asks once, the latency check LATENCY_SAMPLES times (the preflight is not recorded).
    const expected = 1 + LATENCY_SAMPLES;
    expect(run.proxy.applied[0]).toBeGreaterThanOrEqual(expected);
    expectCheckFails(run, MATCH, new RegExp(`^${expected} answer\\(s\\) break the contract \\(${expected} violation\\(s\\)\\): .*and ${expected - 3} more`));
    const { check, log } = written(run, MATCH);
    expect(check.evidence).toHaveLength(expected);
    for (const line of check.evidence!) expect(line).toMatch(/^GET \/healthz 200: \$ missing required field service \(in health\.(healthz\.status|latency\.healthz-p95)\)$/);
    expect(check.evidence!.filter((line) => line.endsWith('(in health.latency.healthz-p95)'))).toHaveLength(LATENCY_SAMPLES);
    const logged = log.split('\n').filter((line) => line.includes(' violation: '));
    expect(logged).toHaveLength(expected);
    for (const line of check.evidence!) expect(log).toContain(`violation: ${line}`);
    expect(run.check('health.healthz.status').status).toBe('passed');
  });

  it('every bad input a target answers 500 is evidence of its negative check and of observability.run.no-5xx', async () => {
    const contract = await loadOpenApiContract();
    // The oversize body is left alone (its 413 may come before the upload ends): every other bad input gets a 500.
    const cases = negativeRequests(contract.operations.get('createCreditIntent')!, { now: new Date() }).filter((c) => c.kind !== 'oversize').length;
    expect(cases).toBeGreaterThan(10);
    const faults: Fault[] = [{ method: 'POST', path: /^\/internal\/v1\/credit\/intent$/, when: small, status: 500, json: () => ({ error: { code: 'internal_error', message: 'boom' } }) }];
    const run = await fixture.runFaulty(faults, { lanes: ['contract', 'observability'], checks: ['contract.negative.create-credit-intent', 'observability.*'] });
    expect(run.proxy.applied[0]).toBe(cases);
    expectCheckFails(run, 'contract.negative.create-credit-intent', new RegExp(`^${cases} problem\\(s\\) with the answers to ${cases + 1} bad inputs: .*answered 500, expected 4xx.*and ${cases - 3} more`));
    const negative = written(run, 'contract.negative.create-credit-intent');
    expect(negative.check.evidence!.filter((line) => line.endsWith('answered 500, expected 4xx'))).toHaveLength(cases);
    for (const line of negative.check.evidence!) expect(negative.log).toContain(`violation: ${line}`);
    expectCheckFails(run, 'observability.run.no-5xx', /answered 5xx during the run: POST \/internal\/v1\/credit\/intent → 500 \(in contract\.negative\.create-credit-intent\)/);
    const fiveHundreds = written(run, 'observability.run.no-5xx');
    expect(fiveHundreds.check.evidence).toEqual(Array.from({ length: cases }, () => 'POST /internal/v1/credit/intent → 500 (in contract.negative.create-credit-intent)'));
    for (const line of fiveHundreds.check.evidence!) expect(fiveHundreds.log).toContain(`violation: ${line}`);
  });
});

/** The proxy answers every bad body sent to POST /runs/{id}/events with a rate_limited 429. */
const rateLimited = (extra: Partial<Fault>): Fault[] => [{ method: 'POST', path: EVENTS, when: small, status: 429, json: () => ({ error: { code: 'rate_limited', message: 'slow down' } }), dropResponseHeaders: ['retry-after'], ...extra }];

describe('response headers the contract declares are checked: 429 needs Retry-After (integer >= 1)', () => {
  const headerCases: [string, Partial<Fault>, RegExp][] = [
    ['without Retry-After', {}, /^\S+: POST \/internal\/v1\/runs\/\{run_id\}\/events 429: header Retry-After missing \(the contract requires it\)$/],
    ['with Retry-After: soon', { responseHeaders: { 'retry-after': 'soon' } }, /429: header Retry-After "soon" must be integer$/],
    ['with Retry-After: 0', { responseHeaders: { 'retry-after': '0' } }, /429: header Retry-After "0" must be >= 1$/],
    ['with Retry-After: 0x10 (not decimal digits)', { responseHeaders: { 'retry-after': '0x10' } }, /429: header Retry-After "0x10" must be integer$/],
  ];
  it.each(headerCases)('a 429 %s fails, once per answer, with the header named', async (_name, extra, line) => {
    const run = await fixture.runFaulty(rateLimited(extra), { lanes: ['contract'], checks: [APPEND_NEGATIVE] });
    const answers = run.proxy.applied[0]!;
    expect(answers).toBeGreaterThan(0);
    expectCheckFails(run, APPEND_NEGATIVE, /header Retry-After/);
    const { check, log } = written(run, APPEND_NEGATIVE);
    const headerLines = check.evidence!.filter((l) => l.includes('header Retry-After'));
    expect(headerLines).toHaveLength(answers);
    for (const l of headerLines) {
      expect(l).toMatch(line);
      expect(log).toContain(`violation: ${l}`);
    }
  });

  it('a 429 with a valid Retry-After has no header violation (it still is the wrong refusal of a bad body)', async () => {
    const run = await fixture.runFaulty(rateLimited({ responseHeaders: { 'retry-after': '2' } }), { lanes: ['contract'], checks: [APPEND_NEGATIVE] });
    expect(run.proxy.applied[0]).toBeGreaterThan(0);
    const { check } = written(run, APPEND_NEGATIVE);
    expect(check.status).toBe('failed');
    expect(check.evidence!.length).toBeGreaterThan(0);
    expect(check.evidence!.filter((l) => l.includes('header'))).toEqual([]);
    expect(check.evidence!.every((l) => /refused with 429 rate_limited, expected invalid_request/.test(l))).toBe(true);
  });
});

describe('media types are compared exactly', () => {
  const failing: [string, string][] = [
    ['application/jsonx', 'application\\/jsonx'],
    ['text/json-ish', 'text\\/json-ish'],
    ['application/problem+json', 'application\\/problem\\+json'],
    ['json', 'json'],
  ];
  it.each(failing)('a JSON body under content-type %s fails %s', async (contentType, escaped) => {
    const run = await fixture.runFaulty([{ method: 'GET', path: CREDIT_HEALTH, contentType }], { lanes: ['credit', 'contract'], checks: ['credit.cep.health-fields', MATCH] });
    expect(run.proxy.applied[0]).toBeGreaterThan(0);
    expectCheckFails(run, MATCH, new RegExp(`GET /internal/v1/credit/health 200: content-type ${escaped}, expected application/json \\(in credit\\.cep\\.health-fields\\)`));
  });

  const passing = ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON; charset="utf-8"', 'application/json'];
  it.each(passing)('a JSON body under content-type %s passes', async (contentType) => {
    const run = await fixture.runFaulty([{ method: 'GET', path: CREDIT_HEALTH, contentType }], { lanes: ['credit', 'contract'], checks: ['credit.cep.health-fields', MATCH] });
    expect(run.proxy.applied[0]).toBeGreaterThan(0);
    const check = run.check(MATCH);
    expect(check.status, check.detail).toBe('passed');
    expect(check.evidence).toBeUndefined();
  });
});

describe('the correct reference server passes all of these checks', () => {
  it('health, contract, credit and observability through the proxy without faults: every check passes', async () => {
    const run = await fixture.runFaulty([], { lanes: ['health', 'contract', 'credit', 'observability'], target: { expected_build_sha: 'dev' }, checkTimeoutMs: 15_000 });
    const notPassed = run.report.checks.filter((c) => c.status !== 'passed').map((c) => `${c.check_id}: ${c.status} ${c.detail}`);
    expect(notPassed).toEqual([]);
    expect(run.report.checks.every((c) => c.evidence === undefined)).toBe(true);
    expect(run.check(MATCH).detail).toMatch(/^\d+ answers valid/);
    expect(run.report.decision).toBe('GO');
  });
});
