/**
 * Hostile Khala WebSocket input (issue 9 §3): generated client frames of every type and
 * none (malformed JSON, wrong types, unknown fields, huge strings and arrays, deep nesting,
 * binary frames), oversized frames, invalid UTF-8, floods of subscribe frames, too many
 * topics and sockets, and oversized upgrade headers. Each gets the documented error frame,
 * close code or HTTP denial — never `internal_error`, a crash, a hang or unbounded memory —
 * and every frame the server sends matches khala.asyncapi.yaml.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerFrame } from '../../contracts/generated/khala-frames.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { createRun, signSyncToken } from '../reliability/load-support.ts';
import { FrameProbe, tryUpgrade } from '../support/khala-fixtures.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { sendRaw } from './hostile-support.ts';

const MAX_FRAME = 4096;
const MAX_TOPICS = 8;
const MAX_SOCKETS = 4;
/** Codes a hostile frame may earn (SPEC §2.2); never internal_error. */
const HOSTILE_CODES = new Set(['invalid_request', 'bad_subscription', 'forbidden_topic', 'stale_cursor', 'payload_too_large']);

let db: TestDatabase;
let t: TestServer;
let wsUrl: string;
let topic: string;
const probes: FrameProbe[] = [];

beforeAll(async () => {
  db = await createTestDatabase('hostile_ws');
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db, {
    LOG_LEVEL: 'warn',
    RUNTIME_KHALA_MAX_FRAME_BYTES: String(MAX_FRAME),
    RUNTIME_KHALA_MAX_TOPICS_PER_SOCKET: String(MAX_TOPICS),
    RUNTIME_KHALA_MAX_SOCKETS_PER_PRINCIPAL: String(MAX_SOCKETS),
  });
  wsUrl = `${t.url.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
  topic = (await createRun(t.url, 'ws-owner')).topic;
});
afterAll(async () => {
  for (const probe of probes) probe.ws.terminate();
  await t?.close();
  await db?.drop();
});

async function open(principal = 'ws-owner'): Promise<FrameProbe> {
  const probe = await FrameProbe.open(wsUrl, await signSyncToken(principal));
  probes.push(probe);
  return probe;
}

/** Closes the probe, asserting every server frame matched the contract. */
function finish(probe: FrameProbe): void {
  probe.close();
  probes.splice(probes.indexOf(probe), 1);
}

let pingCounter = 0;
/** Pings and waits for the pong: the socket is alive and has answered every earlier frame. */
async function roundTrip(probe: FrameProbe, timeoutMs = 5000): Promise<ServerFrame[]> {
  const from = probe.frames.length;
  const id = `ping-${++pingCounter}`;
  probe.send({ type: 'ping', request_id: id });
  await probe.waitFor((f) => f.type === 'pong' && f.request_id === id, timeoutMs, from);
  return probe.frames.slice(from);
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const topicLike = fc.oneof(fc.constant('__topic__'), fc.string({ maxLength: 30 }), fc.constantFrom('run:x:events', 'worker:w:lifecycle', 'runtime.codex_worker_events', '\u0000', 'a\u0000b', 'x'.repeat(300), '', 'run::events'));
const frameArbitrary: fc.Arbitrary<{ label: string; data: string | Buffer; binary?: boolean }> = fc.oneof(
  anyJson.map((v) => ({ label: 'random JSON', data: JSON.stringify(v) ?? 'null' })),
  fc.string({ maxLength: 100 }).map((s) => ({ label: 'random text', data: s })),
  fc.uint8Array({ maxLength: 100 }).map((b) => ({ label: 'binary frame', data: Buffer.from(b), binary: true })),
  fc
    .record(
      {
        type: fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'pong', 'update_batch', 'SUBSCRIBE', ''),
        request_id: fc.oneof(fc.string({ maxLength: 20 }), anyJson, fc.constant('r'.repeat(200))),
        topics: fc.oneof(fc.array(topicLike, { maxLength: 12 }), anyJson),
        resume_after: fc.oneof(fc.dictionary(topicLike, fc.oneof(fc.record({ seq: fc.oneof(fc.integer(), fc.double(), fc.constant(1e300), fc.constant(-1)), epoch: fc.oneof(fc.string({ maxLength: 10 }), anyJson) }, { requiredKeys: [] }), anyJson), { maxKeys: 3 }), anyJson),
        extra: anyJson,
      },
      { requiredKeys: ['type'] },
    )
    .map((frame) => {
      const { topics, resume_after, ...rest } = frame as Record<string, unknown>;
      const swap = (v: unknown): unknown => (v === '__topic__' ? topic : Array.isArray(v) ? v.map(swap) : v);
      const resume = resume_after && typeof resume_after === 'object' && !Array.isArray(resume_after) ? Object.fromEntries(Object.entries(resume_after).map(([k, v]) => [swap(k) as string, v])) : resume_after;
      return { label: `${String(frame.type)} frame`, data: JSON.stringify({ ...rest, ...(topics !== undefined ? { topics: swap(topics) } : {}), ...(resume !== undefined ? { resume_after: resume } : {}) }) };
    }),
  fc.integer({ min: 200, max: 1500 }).map((n) => ({ label: `nested ${n} deep`, data: `{"type":"subscribe","request_id":"d","topics":${deep(n)}}` })),
  fc.integer({ min: 65, max: 300 }).map((n) => ({ label: `${n} topics`, data: JSON.stringify({ type: 'subscribe', request_id: 'many', topics: Array.from({ length: n }, (_, i) => `fallback-${i}`) }) })),
  fc.constantFrom('{', '{"type":"subscribe"', '[]', 'null', '"subscribe"', '{"type":"ping","request_id":"p","extra":1}', '{"__proto__":{"type":"ping"}}').map((s) => ({ label: 'malformed', data: s })),
);

describe('hostile Khala frames', () => {
  it('every generated client frame gets documented error frames (or none), never internal_error, and the socket keeps answering', async () => {
    let probe = await open();
    let frames = 0;
    let reopened = 0;
    await fc.assert(
      fc.asyncProperty(frameArbitrary, async ({ label, data, binary }) => {
        frames += 1;
        if (probe.closeCode !== undefined || probe.ws.readyState !== WebSocket.OPEN) {
          finish(probe);
          probe = await open();
          reopened += 1;
        }
        const from = probe.frames.length;
        probe.ws.send(data, { binary: binary === true });
        const answers = await roundTrip(probe).catch((error: Error) => {
          throw new Error(`${label}: ${String(data).slice(0, 200)}: ${error.message}`);
        });
        const errors = probe.frames.slice(from).filter((f) => f.type === 'error');
        for (const error of errors) expect(HOSTILE_CODES.has(error.code), `${label}: ${String(data).slice(0, 200)} → ${JSON.stringify(error).slice(0, 300)}`).toBe(true);
        expect(answers.at(-1)?.type).toBe('pong');
      }),
      { numRuns: 250, seed: 9 },
    );
    finish(probe);
    expect(frames).toBeGreaterThanOrEqual(250);
    expect(reopened, 'no hostile frame closed the socket').toBe(0);
  });

  it('valid-looking subscribes with NUL, lone surrogates or absurd cursors get per-topic errors, never internal_error', async () => {
    const probe = await open();
    // Each frame and the error it must get (undefined: no error, e.g. unsubscribing a topic never subscribed).
    const cases: [unknown, { code: string; reason_code: string } | undefined][] = [
      [{ type: 'subscribe', request_id: 'nul', topics: ['\u0000'] }, { code: 'bad_subscription', reason_code: 'invalid_frame' }],
      [{ type: 'subscribe', request_id: 'nul2', topics: [topic, 'run:a\u0000b:events'], resume_after: { 'run:a\u0000b:events': { seq: 0 } } }, { code: 'bad_subscription', reason_code: 'invalid_frame' }],
      [{ type: 'subscribe', request_id: 'sur', topics: ['run:\ud800:events'] }, { code: 'forbidden_topic', reason_code: 'not_owner' }],
      [{ type: 'subscribe', request_id: 'big', topics: [topic], resume_after: { [topic]: { seq: 1e300 } } }, { code: 'bad_subscription', reason_code: 'cursor_ahead_of_head' }],
      [{ type: 'subscribe', request_id: 'epoch', topics: [topic], resume_after: { [topic]: { seq: 0, epoch: '\u0000' } } }, { code: 'bad_subscription', reason_code: 'invalid_frame' }],
      [{ type: 'unsubscribe', request_id: 'un', topics: ['\u0000'] }, undefined],
    ];
    for (const [frame, expected] of cases) {
      const from = probe.frames.length;
      probe.send(frame);
      await roundTrip(probe);
      const errors = probe.frames.slice(from).filter((f) => f.type === 'error');
      const label = JSON.stringify(frame).slice(0, 120);
      if (expected) expect(errors, label).toEqual([expect.objectContaining({ code: expected.code, details: expect.objectContaining({ reason_code: expected.reason_code }) })]);
      else expect(errors, label).toEqual([]);
    }
    finish(probe);
  });

  it('a frame over the frame limit gets payload_too_large and the socket stays; one over 4× the limit is closed with 1009', async () => {
    const probe = await open();
    probe.send({ type: 'ping', request_id: 'big', pad: 'x'.repeat(MAX_FRAME * 2) });
    const error = await probe.waitFor((f) => f.type === 'error');
    expect(error).toMatchObject({ code: 'payload_too_large', details: { reason_code: 'frame_too_large', max_frame_bytes: MAX_FRAME } });
    await roundTrip(probe);
    probe.ws.send('x'.repeat(MAX_FRAME * 4 + 1));
    expect(await probe.waitClosed()).toBe(1009);
    finish(probe);
  });

  it('a text frame with invalid UTF-8 is closed with 1007 (RFC 6455), and the server keeps serving others', async () => {
    const probe = await open();
    probe.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await probe.waitClosed()).toBe(1007);
    finish(probe);
    const other = await open();
    await roundTrip(other);
    finish(other);
  });

  it('a flood of 1000 subscribe frames is answered in order within bounded memory, and other sockets stay responsive', async () => {
    const flooder = await open();
    const bystander = await open('ws-bystander');
    const rssBefore = process.memoryUsage().rss;
    const frame = JSON.stringify({ type: 'subscribe', request_id: 'flood', topics: [topic], resume_after: { [topic]: { seq: 0 } } });
    for (let i = 0; i < 1000; i++) flooder.ws.send(frame);
    const started = Date.now();
    await roundTrip(bystander, 5000);
    const bystanderMs = Date.now() - started;
    await roundTrip(flooder, 40_000);
    const answers = flooder.frames.filter((f) => f.type === 'subscribed' || f.type === 'error');
    expect(answers.filter((f) => f.type === 'error').map((f) => (f as { code: string }).code)).toEqual([]);
    expect(answers.filter((f) => f.type === 'subscribed')).toHaveLength(1000);
    expect(bystanderMs, 'a ping on another socket is answered during the flood').toBeLessThan(10_000);
    expect((process.memoryUsage().rss - rssBefore) / 1024 / 1024, 'RSS growth in MiB').toBeLessThan(300);
    finish(flooder);
    finish(bystander);
  });

  it(`subscriptions beyond ${MAX_TOPICS} topics per socket are refused per topic with topic_limit_exceeded`, async () => {
    const probe = await open();
    const topics = Array.from({ length: MAX_TOPICS + 3 }, (_, i) => `fallback-topic-${i}`);
    probe.send({ type: 'subscribe', request_id: 'lots', topics });
    const subscribed = await probe.waitFor((f) => f.type === 'subscribed');
    expect(Object.keys((subscribed as { topics: object }).topics)).toHaveLength(MAX_TOPICS);
    await roundTrip(probe);
    const refused = probe.frames.filter((f) => f.type === 'error');
    expect(refused.map((f) => [(f as { code: string }).code, (f as unknown as { details: { reason_code: string } }).details.reason_code])).toEqual(Array(3).fill(['bad_subscription', 'topic_limit_exceeded']));
    // Resubscribing the same topics is not "more" topics; new ones still are.
    probe.send({ type: 'subscribe', request_id: 'again', topics: [...topics.slice(0, 2), 'fallback-new'] });
    await roundTrip(probe);
    expect(probe.frames.filter((f) => f.type === 'error')).toHaveLength(4);
    finish(probe);
  });

  it(`the ${MAX_SOCKETS + 1}th socket of one principal is denied 429 too_many_sockets; closing one frees a slot`, async () => {
    const principal = 'socket-hog';
    const held = [];
    for (let i = 0; i < MAX_SOCKETS; i++) held.push(await open(principal));
    const denied = await tryUpgrade(wsUrl, { authorization: `Bearer ${await signSyncToken(principal)}` });
    expect(denied.status).toBe(429);
    expect(denied.body).toMatchObject({ error: { code: 'rate_limited', details: { reason_code: 'too_many_sockets' } } });
    // Another principal is not affected.
    finish(await open('someone-else'));
    const first = held.shift()!;
    first.ws.close();
    await first.waitClosed();
    finish(first);
    for (let attempt = 0; ; attempt++) {
      const again = await tryUpgrade(wsUrl, { authorization: `Bearer ${await signSyncToken(principal)}` });
      if (again.status === 101) break;
      expect(attempt, 'a slot frees up after a close').toBeLessThan(20);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const probe of held) finish(probe);
  });
});

describe('hostile upgrade requests', () => {
  it('oversized headers answer 431 with the error envelope; garbage tokens 401 with a reason code', async () => {
    const big = await sendRaw(t.url, { method: 'GET', path: '/internal/v1/khala/ws', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'x-pad': 'p'.repeat(20 * 1024) } });
    expect(big.status).toBe(431);
    expect(big.body).toMatchObject({ error: { code: 'invalid_request', details: { reason_code: 'headers_too_large' } } });
    const garbage: [string, string][] = [
      [`Bearer ${'g'.repeat(8000)}`, 'invalid_token'],
      ['Bearer a.b.c', 'invalid_token'],
      ['Bearer \u00ff', 'invalid_token'],
      ['Token x', 'invalid_authorization_scheme'],
    ];
    for (const [authorization, reason] of garbage) {
      const answer = await tryUpgrade(wsUrl, { authorization });
      expect(answer, authorization.slice(0, 40)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', details: { reason_code: reason } } } });
    }
    const query = await tryUpgrade(`${wsUrl}?access_token=${'q'.repeat(6000)}`, {});
    expect(query.status).toBe(401);
    expect(query.body).toMatchObject({ error: { code: 'unauthorized', details: { reason_code: 'invalid_token' } } });
  });
});
