/**
 * Hostile HTTP input against every operation of contracts/runtime.openapi.yaml (issue 9
 * §3), generated with fast-check: malformed JSON, wrong types, huge strings and arrays,
 * deep nesting, unknown fields, invalid UTF-8, odd content types, garbage path and query
 * parameters, bad and oversized credentials and headers. Every answer is a documented 4xx
 * (or 2xx) with the error envelope — never a 5xx, a dropped connection or a hang — and the
 * server's memory stays bounded.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApiContract, type OpenApiContract, type OperationSpec } from '../../contracts/openapi-operations.ts';
import { buildValidExample } from '../../harness/contract/negative-inputs.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { createRun, signSyncToken } from '../reliability/load-support.ts';
import { DEV_INTERNAL_TOKEN, startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { answerProblems, type RawRequest, sendRaw } from './hostile-support.ts';

let db: TestDatabase;
let t: TestServer;
let contract: OpenApiContract;
let runId: string;
let syncToken: string;
const BODY_LIMIT = 64 * 1024;

beforeAll(async () => {
  contract = await loadOpenApiContract();
  db = await createTestDatabase('hostile_http');
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db, { LOG_LEVEL: 'warn', RUNTIME_HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT), RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '100000' });
  runId = (await createRun(t.url, 'hostile-owner')).runId;
  syncToken = await signSyncToken('hostile-owner');
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

const operations = () => [...contract.operations.values()];

/** `n` levels of nested arrays, or of objects when `objects`. */
const deep = (n: number, objects = false) => (objects ? '{"a":'.repeat(n) + '1' + '}'.repeat(n) : '['.repeat(n) + ']'.repeat(n));

const pathValue = fc.oneof(
  { weight: 3, arbitrary: fc.constant('__real__') },
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('x'.repeat(5000), '..', '%00', '\u0000', 'a/b', '$' + '{jndi:ldap://x}', "' OR 1=1 --", '0'.repeat(64), 'f'.repeat(64)),
);

const queryValue = fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String), fc.constantFrom('-1', '0', '1e309', '99999999999999999999', 'NaN', '', '1.5', 'x'.repeat(3000)));

/** A body: mostly broken, sometimes a valid example with a twist. */
function bodyArbitrary(operation: OperationSpec): fc.Arbitrary<{ label: string; body: string | Buffer }> {
  let example: Record<string, unknown> = {};
  try {
    example = (operation.requestBody ? buildValidExample(operation.requestBody.schema) : {}) as Record<string, unknown>;
  } catch {
    example = {};
  }
  const withField = (name: string, value: unknown) => JSON.stringify({ ...example, [name]: value });
  const fields = Object.keys(example);
  const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant('payload');
  return fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ label: 'random JSON', body: JSON.stringify(v) ?? 'null' })),
    fc.string({ maxLength: 200 }).map((s) => ({ label: 'random text', body: s })),
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({ label: 'random bytes (invalid UTF-8)', body: Buffer.from(bytes) })),
    fc.constantFrom('{', '{"a":', '[1,2', '{"a" 1}', 'nul', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '\uFEFF{}', '{}garbage').map((s) => ({ label: 'malformed JSON', body: s })),
    fc.tuple(field, fc.jsonValue({ maxDepth: 3 })).map(([name, value]) => ({ label: `wrong type for ${name}`, body: withField(name, value) })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue({ maxDepth: 2 })).map(([name, value]) => ({ label: 'unknown field', body: withField(`zz_${name}`, value) })),
    fc.tuple(field, fc.integer({ min: 1000, max: BODY_LIMIT - 200 })).map(([name, n]) => ({ label: `huge string in ${name}`, body: withField(name, 'é'.repeat(n / 2)) })),
    fc.tuple(field, fc.integer({ min: 1000, max: 20_000 })).map(([name, n]) => ({ label: `huge array in ${name}`, body: withField(name, Array.from({ length: n }, (_, i) => i)) })),
    fc.tuple(field, fc.integer({ min: 100, max: 30_000 }), fc.boolean()).map(([name, n, objects]) => ({ label: `nesting ${n} deep in ${name}`, body: JSON.stringify({ ...example, [name]: 0 }).replace(`"${name}":0`, `"${name}":${deep(n, objects)}`) })),
    fc.integer({ min: 100, max: 30_000 }).map((n) => ({ label: `whole body nested ${n} deep`, body: deep(n) })),
    fc.constant({ label: 'body over the limit', body: JSON.stringify({ ...example, [fields[0] ?? 'x']: 'a'.repeat(BODY_LIMIT + 10) }) }),
    fc.tuple(field, fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '\u202e', '\u0000'.repeat(100))).map(([name, text]) => ({ label: `NUL or lone surrogate in ${name}`, body: withField(name, text) })),
    fc.constantFrom('\u0000', 'k\u0000').map((key) => ({ label: 'NUL in a key', body: JSON.stringify({ ...example, payload: { [key]: 1 } }) })),
    fc.constant({ label: 'valid example', body: JSON.stringify(example) }),
  );
}

const authArbitrary = fc.constantFrom('valid', 'none', 'wrong', 'huge', 'basic', 'sync', 'empty-bearer');
function authHeader(kind: string): Record<string, string> {
  switch (kind) {
    case 'valid':
      return { authorization: `Bearer ${DEV_INTERNAL_TOKEN}` };
    case 'wrong':
      return { authorization: `Bearer ${DEV_INTERNAL_TOKEN.slice(0, -1)}X` };
    case 'huge':
      return { authorization: `Bearer ${'A'.repeat(8000)}` };
    case 'basic':
      return { authorization: 'Basic dXNlcjpwYXNz' };
    case 'sync':
      return { authorization: `Bearer ${syncToken}` };
    case 'empty-bearer':
      return { authorization: 'Bearer ' };
    default:
      return {};
  }
}

function concretePath(operation: OperationSpec, values: string[], query: [string, string][]): string {
  let i = 0;
  const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const raw = values[i++ % values.length] ?? '';
    if (raw !== '__real__') return encodeURIComponent(raw);
    if (name === 'run_id') return runId;
    if (name === 'topic') return encodeURIComponent(`run:${runId}:events`);
    return 'a'.repeat(64);
  });
  const search = new URLSearchParams(query).toString();
  return search ? `${path}?${search}` : path;
}

let tried = 0;

async function expectAcceptable(operation: OperationSpec, req: RawRequest, label: string): Promise<void> {
  tried += 1;
  const response = await sendRaw(t.url, req);
  const problems = answerProblems(contract, operation.operationId, response);
  if (problems.length > 0) throw new Error(`${operation.operationId} ${label}: ${req.method} ${req.path.slice(0, 160)}\n${problems.join('\n')}`);
}

/** Every operation of the contract, by name (the coverage test fails when the contract gains one). */
const FUZZED_OPERATIONS = [['getHealthz'], ['getReadyz'], ['getMetrics'], ['getInternalHealth'], ['getOpenApiDocument'], ['createRun'], ['getRun'], ['appendRunEvent'], ['cancelRun'], ['streamRunEvents'], ['pollKhalaTopicMessages'], ['getKhalaFanoutMetrics'], ['mintSyncToken'], ['revokeSyncSessions'], ['createCreditIntent'], ['createCreditOffer'], ['createCreditEnvelope'], ['settleCreditEnvelope'], ['getCreditHealth'], ['getCreditAgentExposure']];

describe('hostile HTTP input against every operation', () => {
  it('covers every operation the contract declares', () => {
    expect(FUZZED_OPERATIONS.map(([id]) => id).sort()).toEqual([...contract.operations.keys()].sort());
  });

  it.each(FUZZED_OPERATIONS)(
    '%s: generated bodies, parameters, content types and credentials get a documented answer, never a 5xx or a hang',
    async (operationId) => {
      const operation = contract.operations.get(operationId);
      expect(operation, `${operationId} is in the contract`).toBeDefined();
      const op = operation!;
      const queryNames = ['cursor', 'tail_ms', 'after_seq', 'limit', 'unknown_param'];
      await fc.assert(
        fc.asyncProperty(
          fc.array(pathValue, { minLength: 1, maxLength: 2 }),
          fc.array(fc.tuple(fc.constantFrom(...queryNames), queryValue), { maxLength: 3 }),
          bodyArbitrary(op),
          fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json; charset=latin1'),
          authArbitrary,
          fc.record({ 'x-request-id': fc.string({ maxLength: 300 }), 'x-oa-user-id': fc.oneof(fc.string({ maxLength: 50 }), fc.constant('u'.repeat(4000))), 'last-event-id': fc.oneof(fc.string({ maxLength: 20 }), fc.constant('-5')) }, { requiredKeys: [] }),
          async (pathValues, query, { label, body }, contentType, auth, extra) => {
            // tail_ms keeps an SSE stream open; the property is about answers, so keep it short.
            const safeQuery = query.map(([k, v]) => (k === 'tail_ms' ? ([k, String(Math.min(Number(v) || 0, 50))] as [string, string]) : [k, v])) as [string, string][];
            const headers: Record<string, string> = { ...authHeader(auth) };
            for (const [name, value] of Object.entries(extra)) if (/^[\t\x20-\x7e]*$/.test(value)) headers[name] = value;
            const hasBody = op.method !== 'get';
            if (hasBody && contentType) headers['content-type'] = contentType;
            await expectAcceptable(op, { method: op.method.toUpperCase(), path: concretePath(op, pathValues, safeQuery), headers, ...(hasBody ? { body } : {}) }, `${label}, auth ${auth}, content-type ${contentType || 'none'}`);
          },
        ),
        { numRuns: op.method === 'get' ? 25 : 60, seed: 9 },
      );
    },
  );

  it('a GET with a body, unknown methods and malformed paths get 4xx with the error envelope', async () => {
    const run = `/internal/v1/runs/${runId}`;
    const cases: RawRequest[] = [
      { method: 'GET', path: run, headers: { authorization: `Bearer ${DEV_INTERNAL_TOKEN}`, 'content-type': 'application/json' }, body: '{"x":1}' },
      { method: 'PUT', path: run, headers: { authorization: `Bearer ${DEV_INTERNAL_TOKEN}` } },
      { method: 'DELETE', path: '/internal/v1/runs', headers: { authorization: `Bearer ${DEV_INTERNAL_TOKEN}` } },
      { method: 'GET', path: `/internal/v1/runs/${'%'.repeat(3)}`, headers: { authorization: `Bearer ${DEV_INTERNAL_TOKEN}` } },
      { method: 'GET', path: `/internal/v1/runs/%E0%A4%A`, headers: { authorization: `Bearer ${DEV_INTERNAL_TOKEN}` } },
      { method: 'GET', path: `/${'a/'.repeat(2000)}`, headers: {} },
      { method: 'GET', path: `/healthz?${'a=1&'.repeat(2000)}`, headers: {} },
    ];
    for (const req of cases) {
      const response = await sendRaw(t.url, req);
      expect(response.status, `${req.method} ${req.path.slice(0, 80)}: ${response.text.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
      expect(response.status).toBeLessThan(500);
      if (response.status >= 400) expect((response.body as { error?: { code?: string } }).error?.code, response.text.slice(0, 200)).toBeTypeOf('string');
    }
  });

  // Regression: a payload nested 10 000 deep (20 KB, under every size limit) answered 500.
  it('JSON nested deeper than 128 levels answers 400 json_too_deep; 128 levels are accepted', async () => {
    const headers = { authorization: `Bearer ${DEV_INTERNAL_TOKEN}`, 'content-type': 'application/json' };
    const append = (key: string, nested: string) =>
      sendRaw(t.url, { method: 'POST', path: `/internal/v1/runs/${runId}/events`, headers, body: JSON.stringify({ event_type: 'deep', idempotency_key: key, payload: { a: 0 } }).replace('"a":0', `"a":${nested}`) });
    for (const [n, objects] of [[10_000, false], [2_000, true], [127, false]] as const) {
      const response = await append(`deep-${n}-${objects}`, deep(n, objects));
      expect(response.status, `${n} levels: ${response.text.slice(0, 200)}`).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'invalid_request', details: { reason_code: 'json_too_deep' } } });
    }
    // The body object and payload object are 2 levels, so 126 more arrays make exactly 128.
    expect((await append('deep-ok', deep(126))).status).toBe(200);
  });

  it('headers over the limit answer 431 with the error envelope; the server keeps serving', async () => {
    const cases: [string, Record<string, string>][] = [
      ['one 20 KiB header', { 'x-big': 'a'.repeat(20 * 1024) }],
      ['a 17 KiB authorization', { authorization: `Bearer ${'b'.repeat(17 * 1024)}` }],
      ['200 headers of 100 bytes', Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, 'c'.repeat(100)]))],
    ];
    for (const [label, headers] of cases) {
      const response = await sendRaw(t.url, { method: 'GET', path: `/internal/v1/runs/${runId}`, headers });
      expect(response.status, label).toBe(431);
      expect(response.body, label).toMatchObject({ error: { code: 'invalid_request', details: { reason_code: 'headers_too_large' } } });
    }
    // Just under the limit is served normally.
    const fine = await sendRaw(t.url, { method: 'GET', path: `/internal/v1/runs/${runId}`, headers: { authorization: `Bearer ${DEV_INTERNAL_TOKEN}`, 'x-pad': 'd'.repeat(12 * 1024) } });
    expect(fine.status).toBe(200);
  });

  it('a malformed request line gets 400 with the error envelope', async () => {
    const { connect } = await import('node:net');
    const url = new URL(t.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'));
      let text = '';
      socket.on('data', (c) => {
        text += c.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => reject(new Error(`no answer: ${text}`)), 5000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"invalid_request"');
  });

  it('stays within bounded memory and still answers after every hostile request', async () => {
    const rssMb = process.memoryUsage().rss / 1024 / 1024;
    expect(tried).toBeGreaterThan(800);
    expect(rssMb, `RSS after ${tried} hostile requests`).toBeLessThan(1500);
    const health = await sendRaw(t.url, { method: 'GET', path: '/readyz' });
    expect(health.status).toBe(200);
    expect(t.logLines.filter((l) => l.includes('"level":50')).map((l) => l.slice(0, 600)).slice(0, 3), 'no request made the server log an error').toEqual([]);
  });
});
