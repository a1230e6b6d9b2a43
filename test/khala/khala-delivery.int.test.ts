/**
 * Delivery under stress: K1 with aborted and held writes, resumes through 20 dropped
 * connections, multi-page replays, publish and payload limits, slow-consumer eviction.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UpdateBatchFrame } from '../../contracts/generated/khala-frames.ts';
import { KhalaClient } from '../../harness/khala/khala-client.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { appendEvents, CuttableProxy, createRunWithEvents, FrameProbe, mintToken, wsUrl } from '../support/khala-fixtures.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

let db: TestDatabase;
let t: TestServer;
let token: string;
beforeAll(async () => {
  db = await createTestDatabase('khala_delivery', 24);
  await migrate(db.pool, { buildSha: 'dev' });
  // Test-only faults: a journal insert whose payload asks for it fails (an aborted
  // authority write) or holds its transaction open for a while (a slow writer).
  await db.pool.query(`
    CREATE FUNCTION public.test_faults() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.payload ? 'abort_write' THEN RAISE EXCEPTION 'test fault: aborted write'; END IF;
      IF NEW.payload ? 'hold_ms' THEN PERFORM pg_sleep((NEW.payload->>'hold_ms')::int / 1000.0); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_faults BEFORE INSERT ON runtime.sync_stream_events FOR EACH ROW EXECUTE FUNCTION public.test_faults();`);
  t = await startTestServer(db, { RUNTIME_KHALA_HEARTBEAT_MS: '200' });
  token = await mintToken(t, 'owner');
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

const journal = async (topic: string) =>
  (await db.pool.query<{ seq: string }>('SELECT seq FROM runtime.sync_stream_events WHERE topic = $1 ORDER BY seq', [topic])).rows.map((r) => Number(r.seq));

describe('K1 gapless allocation', () => {
  it('an aborted authority write among concurrent writes leaves no seq hole', async () => {
    const { runId, topic } = await createRunWithEvents(t, 'owner', 0);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: `c${i}`, payload: i % 7 === 3 ? { i, abort_write: true } : { i } } }),
      ),
    );
    const aborted = results.filter((r) => r.status === 500);
    expect(aborted).toHaveLength(4);
    const seqs = results.filter((r) => r.status === 200).map((r) => r.body.event.seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    expect(await journal(topic)).toEqual(seqs);
  });

  it('a writer holding its transaction open is never skipped by a subscriber or a poll', async () => {
    const { runId, topic } = await createRunWithEvents(t, 'owner', 2);
    const probe = await FrameProbe.open(wsUrl(t), token);
    try {
      probe.send({ type: 'subscribe', request_id: 'r', topics: [topic], resume_after: { [topic]: { seq: 2 } } });
      await probe.waitFor((f) => f.type === 'update_batch');
      const held = t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'held', payload: { hold_ms: 2000 } } });
      // Wait until the held write is inside its transaction (sleeping in the trigger), not a fixed time.
      await vi.waitFor(async () => {
        const { rows } = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()`);
        expect(rows.length).toBeGreaterThan(0);
      }, { timeout: 5000, interval: 20 });
      const later = t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'later', payload: { n: 1 } } });
      await new Promise((r) => setTimeout(r, 100)); // let `later` reach the server; the hold lasts 2 s
      // While seq 3 is held open, nothing after 2 is visible on any surface.
      const during = await t.api.call('GET', `/internal/v1/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=2`, { token });
      expect(during.body.messages).toEqual([]);
      const [heldResult, laterResult] = await Promise.all([held, later]);
      expect([heldResult.body.event.seq, laterResult.body.event.seq]).toEqual([3, 4]);
      await probe.waitFor((f) => f.type === 'update_batch' && f.updates.some((u) => u.seq === 4));
      expect(probe.seqs(topic)).toEqual([3, 4]);
    } finally {
      probe.close();
    }
  });
});

describe('K4 replay pages', () => {
  it('a long replay streams in bounded pages: replay_complete is false until the last replay batch', async () => {
    const { topic } = await createRunWithEvents(t, 'owner', 0);
    const runId = topic.split(':')[1]!;
    // Bulk journal through the API would take long; 1200 sequential appends are still only a few seconds.
    await Promise.all(Array.from({ length: 4 }, (_, w) => appendEvents(t, runId, 300, 1 + w * 300)));
    const probe = await FrameProbe.open(wsUrl(t), token);
    try {
      probe.send({ type: 'subscribe', request_id: 'r', topics: [topic], resume_after: { [topic]: { seq: 0 } } });
      await probe.waitFor((f) => f.type === 'update_batch' && f.replay_complete, 15_000);
      const batches = probe.frames.filter((f): f is UpdateBatchFrame => f.type === 'update_batch');
      expect(batches.map((b) => [b.updates.length, b.replay_complete])).toEqual([[500, false], [500, false], [200, true]]);
      expect(probe.seqs(topic)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    } finally {
      probe.close();
    }
  }, 60_000);
});

describe('resume through dropped connections', () => {
  it('a client whose connection is cut 20 times at random points ends with exactly 1…N, each applied once', async () => {
    const N = 400;
    const { runId, topic } = await createRunWithEvents(t, 'owner', 0);
    const port = Number(new URL(t.url).port);
    const proxy = new CuttableProxy(port);
    await proxy.start();
    const applied: number[] = [];
    const client = new KhalaClient({
      url: `ws://127.0.0.1:${proxy.port}/internal/v1/khala/ws`,
      token,
      topics: [topic],
      reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
      onApply: (update) => applied.push(update.seq),
    });
    try {
      await client.start();
      const writer = appendEvents(t, runId, N);
      for (let cut = 0; cut < 20; cut++) {
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
        proxy.cutAll();
      }
      await writer;
      await client.waitForSeq(topic, N, 20_000);
      expect(proxy.cuts).toBe(20);
      expect(applied).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect(client.connections).toBeGreaterThan(1);
      expect(client.anomalies.filter((a) => a.kind === 'hash_mismatch' || a.kind === 'hash_changed' || a.kind === 'invalid_frame')).toEqual([]);
    } finally {
      await client.close();
      await proxy.stop();
    }
  }, 60_000);
});

describe('shutdown', () => {
  it('closes live sockets with 1001 when the server shuts down', async () => {
    const other = await startTestServer(db);
    const probe = await FrameProbe.open(wsUrl(other), await mintToken(other, 'owner'));
    await other.close();
    expect(await probe.waitClosed()).toBe(1001);
    probe.close();
  });
});

describe('limits', () => {
  it('publishes over the class rate answer 429 rate_limited with Retry-After and consume no seq', async () => {
    const limited = await startTestServer(db, { RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '5' });
    try {
      const { runId, topic } = await createRunWithEvents(limited, 'owner', 0);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => limited.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: `r${i}`, payload: {} } })));
      const rejected = results.filter((r) => r.status === 429);
      expect(rejected.length).toBeGreaterThanOrEqual(6);
      expect(rejected[0]!.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(rejected[0]!.body.error.code).toBe('rate_limited');
      expect(await journal(topic)).toEqual(Array.from({ length: 12 - rejected.length }, (_, i) => i + 1));
    } finally {
      await limited.close();
    }
  });

  it('a frame over the frame limit gets payload_too_large and the socket keeps working', async () => {
    const probe = await FrameProbe.open(wsUrl(t), token);
    try {
      probe.send({ type: 'ping', request_id: 'x'.repeat(t.config.khala.maxFrameBytes + 10) });
      expect(await probe.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'payload_too_large' });
      probe.send({ type: 'ping', request_id: 'ok' });
      await probe.waitFor((f) => f.type === 'pong');
    } finally {
      probe.close();
    }
  });

  it('evicts a consumer that stops reading once its send buffer passes the threshold (close 4002)', async () => {
    const strict = await startTestServer(db, { RUNTIME_KHALA_SLOW_CONSUMER_MAX_BUFFERED_BYTES: '1024' });
    try {
      const { runId, topic } = await createRunWithEvents(strict, 'owner', 0);
      const strictToken = await mintToken(strict, 'owner');
      const probe = await FrameProbe.open(wsUrl(strict), strictToken);
      probe.send({ type: 'subscribe', request_id: 'r', topics: [topic] });
      await probe.waitFor((f) => f.type === 'subscribed');
      (probe.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stop reading: the server's buffer fills
      const big = { blob: 'y'.repeat(60_000) };
      // Write until the server has evicted the socket (it cannot see the close while paused),
      // then resume at once: the close frame must arrive before the server's close timeout.
      const evicted = async () => /khala_evictions_total\{reason="slow_consumer"\} 1/.test((await strict.api.call('GET', '/metrics', { token: null })).text);
      for (let i = 0; i < 300; i++) {
        await strict.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: `b${i}`, payload: big } });
        if (i % 5 === 4 && (await evicted())) break;
      }
      (probe.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await probe.waitClosed(10_000)).toBe(4002);
      const metrics = await strict.api.call('GET', '/metrics', { token: null });
      expect(metrics.text).toMatch(/khala_evictions_total\{reason="slow_consumer"\} 1/);
    } finally {
      await strict.close();
    }
  }, 30_000);
});
