/**
 * Responses against the compiled contract (contracts/openapi-operations.ts): media types
 * compared exactly (contracts/media-type.ts) and the response headers the contract
 * declares (429 `Retry-After`, contracts/runtime.openapi.yaml `#/components/headers/RetryAfter`),
 * directly and through contract.responses.match-schemas over recorded exchanges.
 */
import { describe, expect, it } from 'vitest';
import { isJsonMediaType, mediaTypeOf, sameMediaType } from '../../contracts/media-type.ts';
import { headerValue, loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import type { CheckContext } from '../../harness/check-runner.ts';
import { contractLane } from '../../harness/lanes/contract-lane.ts';
import type { Exchange } from '../../harness/target-http.ts';

const contract = await loadOpenApiContract();
const RATE_LIMITED = { error: { code: 'rate_limited', message: 'slow down' } };
const HEALTHZ = { status: 'ok', service: 'runtime', build_sha: 'dev', authority_write_mode: 'rust_active' };

describe('media types', () => {
  it.each([
    ['application/json', 'application/json'],
    ['application/json; charset=utf-8', 'application/json'],
    ['Application/JSON;Charset=UTF-8', 'application/json'],
    ['  text/plain ; version=0.0.4', 'text/plain'],
    ['application/problem+json', 'application/problem+json'],
  ])('%s is %s', (value, type) => {
    expect(mediaTypeOf(value)).toBe(type);
  });

  it.each(['', 'json', 'application/', '/json', 'a/b/c', 'application json', 'application/json x'])('%j is no media type', (value) => {
    expect(mediaTypeOf(value)).toBeUndefined();
  });

  it('compares exactly: no prefix, substring or suffix matches', () => {
    expect(sameMediaType('application/json; charset=utf-8', 'application/json')).toBe(true);
    for (const other of ['application/jsonx', 'text/json-ish', 'application/problem+json', 'application/json-seq', 'xapplication/json']) {
      expect(sameMediaType(other, 'application/json'), other).toBe(false);
    }
    expect(isJsonMediaType('application/problem+json')).toBe(true);
    expect(isJsonMediaType('application/jsonx')).toBe(false);
    expect(isJsonMediaType('text/json-ish')).toBe(false);
  });
});

describe('validateResponse: media types', () => {
  it.each(['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON; charset="utf-8"'])('a valid body under %s passes', (contentType) => {
    expect(contract.validateResponse('getHealthz', 200, HEALTHZ, contentType)).toEqual([]);
    expect(contract.validateResponse('getHealthz', 200, JSON.stringify(HEALTHZ), contentType)).toEqual([]);
  });

  it.each(['application/jsonx', 'text/json-ish', 'application/problem+json', 'text/plain', 'json'])('a valid body under %s fails', (contentType) => {
    expect(contract.validateResponse('getHealthz', 200, HEALTHZ, contentType)).toEqual([{ path: '$', message: `GET /healthz 200: content-type ${contentType}, expected application/json` }]);
  });

  it('an answer without a content-type fails when the response documents a body; an unknown one is not judged', () => {
    expect(contract.validateResponse('getHealthz', 200, HEALTHZ, '')).toEqual([{ path: '$', message: 'GET /healthz 200: no content-type, expected application/json' }]);
    expect(contract.validateResponse('getHealthz', 200, HEALTHZ)).toEqual([]);
  });

  it('the text media types the contract documents pass, with parameters', () => {
    expect(contract.validateResponse('getMetrics', 200, '# HELP x\n', 'text/plain; version=0.0.4; charset=utf-8')).toEqual([]);
    expect(contract.validateResponse('getMetrics', 200, '# HELP x\n', 'application/json')).toHaveLength(1);
  });

  it('a body that is not JSON under application/json is named by the schema', () => {
    expect(contract.validateResponse('getHealthz', 200, 'OK', 'application/json')).toEqual([{ path: '$', message: 'GET /healthz 200: $ must be object' }]);
  });
});

describe('validateResponse: declared response headers', () => {
  const op = contract.operations.get('appendRunEvent')!;
  const where = 'POST /internal/v1/runs/{run_id}/events 429';

  it('the compiled 429 declares Retry-After as required, and no other status declares headers', () => {
    expect(op.responses.get(429)!.headers.map((h) => [h.name, h.required])).toEqual([['Retry-After', true]]);
    expect(op.responses.get(200)!.headers).toEqual([]);
  });

  it.each([
    ['missing', {}, `${where}: header Retry-After missing (the contract requires it)`],
    ['not a number', { 'retry-after': 'soon' }, `${where}: header Retry-After "soon" must be integer`],
    ['zero', { 'Retry-After': '0' }, `${where}: header Retry-After "0" must be >= 1`],
    ['hexadecimal', { 'retry-after': '0x10' }, `${where}: header Retry-After "0x10" must be integer`],
    ['exponent', { 'retry-after': '1e3' }, `${where}: header Retry-After "1e3" must be integer`],
    ['fractional', { 'retry-after': '1.5' }, `${where}: header Retry-After "1.5" must be integer`],
    ['two values', { 'retry-after': ['1', '2'] }, `${where}: header Retry-After "1, 2" must be integer`],
  ])('a 429 with Retry-After %s fails', (_name, headers, message) => {
    const violations = contract.validateResponse('appendRunEvent', 429, RATE_LIMITED, 'application/json', headers);
    expect(violations).toEqual([{ path: 'header.Retry-After', message }]);
    expect(contract.validateResponseHeaders('appendRunEvent', 429, headers)).toEqual(violations);
  });

  it.each([{ 'retry-after': '1' }, { 'Retry-After': '120' }, new Headers({ 'retry-after': '3', 'content-type': 'application/json' })])('a 429 with a valid Retry-After passes (%o)', (headers) => {
    expect(contract.validateResponse('appendRunEvent', 429, RATE_LIMITED, 'application/json', headers)).toEqual([]);
    expect(contract.validateResponseHeaders('appendRunEvent', 429, headers)).toEqual([]);
  });

  it('the content-type of the headers is used when none is given, and header violations add to body violations', () => {
    const headers = new Headers({ 'content-type': 'application/jsonx' });
    expect(contract.validateResponse('appendRunEvent', 429, RATE_LIMITED, undefined, headers).map((v) => v.message)).toEqual([`${where}: content-type application/jsonx, expected application/json`, `${where}: header Retry-After missing (the contract requires it)`]);
  });

  it('headers unknown (not given): not judged', () => {
    expect(contract.validateResponse('appendRunEvent', 429, RATE_LIMITED, 'application/json')).toEqual([]);
  });

  it('headerValue reads any case and joins repeated values', () => {
    expect(headerValue({ 'Retry-After': '5' }, 'retry-after')).toBe('5');
    expect(headerValue({ 'retry-after': ['1', '2'] }, 'Retry-After')).toBe('1, 2');
    expect(headerValue({}, 'retry-after')).toBeUndefined();
  });
});

describe('contract.responses.match-schemas judges recorded headers and media types', () => {
  const exchange = (extra: Partial<Exchange> & { headers?: Record<string, string> }): Exchange => ({
    check_id: 'khala.limits.publish-rate',
    target: 't',
    method: 'POST',
    path: '/internal/v1/runs/run_1/events',
    status: 429,
    content_type: 'application/json; charset=utf-8',
    body: RATE_LIMITED,
    truncated: false,
    duration_ms: 1,
    ...extra,
  });

  async function judge(exchanges: Exchange[]): Promise<{ outcome: string; evidence: string[] }> {
    const check = (await contractLane()).find((c) => c.id === 'contract.responses.match-schemas')!;
    const evidence: string[] = [];
    const ctx = { run: { exchanges, allowWrites: false, allowPayments: false, latencies: {} }, evidence: (lines: readonly string[]) => evidence.push(...lines), log: () => {} } as unknown as CheckContext;
    try {
      return { outcome: `passed: ${await check.run(ctx)}`, evidence };
    } catch (error) {
      return { outcome: `failed: ${(error as Error).message}`, evidence };
    }
  }

  it('every 429 without Retry-After is evidence, one line each, however many', async () => {
    const exchanges = Array.from({ length: 14 }, () => exchange({ headers: { 'content-type': 'application/json' } }));
    const { outcome, evidence } = await judge([...exchanges, exchange({ headers: { 'retry-after': '1' } })]);
    expect(outcome).toMatch(/^failed: 14 answer\(s\) break the contract \(14 violation\(s\)\): .* \(and 11 more: every one is in the evidence\)$/);
    expect(evidence).toEqual(Array.from({ length: 14 }, () => 'POST /internal/v1/runs/{run_id}/events 429: header Retry-After missing (the contract requires it) (in khala.limits.publish-rate)'));
  });

  it('a 429 with a valid Retry-After and an exact JSON media type passes', async () => {
    const { outcome, evidence } = await judge([exchange({ headers: { 'retry-after': '2' } })]);
    expect(outcome).toMatch(/^passed: 1 answers valid/);
    expect(evidence).toEqual([]);
  });

  it('application/jsonx fails, application/json; charset=utf-8 passes, an answer without a content-type fails', async () => {
    const healthz = (contentType: string) => exchange({ method: 'GET', path: '/healthz', status: 200, content_type: contentType, body: HEALTHZ, check_id: 'health.healthz.status' });
    expect((await judge([healthz('application/json; charset=utf-8')])).outcome).toMatch(/^passed/);
    expect((await judge([healthz('application/jsonx')])).evidence).toEqual(['GET /healthz 200: content-type application/jsonx, expected application/json (in health.healthz.status)']);
    expect((await judge([healthz('')])).evidence).toEqual(['GET /healthz 200: no content-type, expected application/json (in health.healthz.status)']);
  });
});
