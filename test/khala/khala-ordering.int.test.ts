/**
 * The ordering rules K1 and K3–K8 against the real server and database, on a server
 * started with small budgets and retention so boundaries are reachable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorFrame, UpdateBatchFrame } from '../../contracts/generated/khala-frames.ts';
import { payloadHash } from '../../contracts/payload-hash.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { appendEvents, createRunWithEvents, FrameProbe, mintToken, wsUrl } from '../support/khala-fixtures.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const RETENTION = 30;
const BUDGET = 20;
let db: TestDatabase;
let t: TestServer;
let token: string;
beforeAll(async () => {
  db = await createTestDatabase('khala_ordering', 20);
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db, {
    RUNTIME_KHALA_RUN_EVENTS_RETENTION_EVENTS: String(RETENTION),
    RUNTIME_KHALA_RUN_EVENTS_REPLAY_BUDGET_EVENTS: String(BUDGET),
    RUNTIME_KHALA_HEARTBEAT_MS: '200',
  });
  token = await mintToken(t, 'owner');
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

async function resume(topic: string, seq: number, epoch?: string): Promise<FrameProbe> {
  const probe = await FrameProbe.open(wsUrl(t), token);
  probe.send({ type: 'subscribe', request_id: 'r', topics: [topic], resume_after: { [topic]: { seq, ...(epoch ? { epoch } : {}) } } });
  return probe;
}

async function firstOutcome(probe: FrameProbe): Promise<UpdateBatchFrame | ErrorFrame> {
  return probe.waitFor<UpdateBatchFrame | ErrorFrame>((f) => f.type === 'update_batch' || f.type === 'error');
}

function poll(topic: string, afterSeq: number, limit = 100) {
  return t.api.call('GET', `/internal/v1/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=${afterSeq}&limit=${limit}`, { token });
}

describe('K4 exact resume and replay batches', () => {
  it('replays k+1…H in order with replay_complete false until the last replay batch, then goes live', async () => {
    const { runId, topic } = await createRunWithEvents(t, 'owner', 15);
    const probe = await resume(topic, 5);
    try {
      await probe.waitFor((f) => f.type === 'update_batch' && f.replay_complete);
      expect(probe.seqs(topic)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      await appendEvents(t, runId, 3, 100);
      await probe.waitFor((f) => f.type === 'update_batch' && f.updates.some((u) => u.seq === 18));
      expect(probe.seqs(topic)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
      const batches = probe.frames.filter((f): f is UpdateBatchFrame => f.type === 'update_batch');
      expect(batches.every((b) => b.replay_complete)).toBe(true); // 10 events fit in one replay page
    } finally {
      probe.close();
    }
  });

  it('delivers writes committed during a replay exactly once across the seam', async () => {
    const { runId, topic } = await createRunWithEvents(t, 'owner', 1);
    await db.pool.query(`UPDATE runtime.sync_topic_sequences SET oldest_available_seq = 1 WHERE topic = $1`, [topic]);
    // 18 writes: even if they all commit before the subscribe, H = 19 stays within the budget of 20.
    const writer = appendEvents(t, runId, 18, 2);
    const probe = await resume(topic, 0);
    try {
      await writer;
      await probe.waitFor((f) => f.type === 'update_batch' && f.updates.some((u) => u.seq === 19), 10_000);
      // retention is 30, so nothing was pruned: every seq exactly once, in order
      expect(probe.seqs(topic)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    } finally {
      probe.close();
    }
  });
});

describe('K5 resume at head and cursor ahead of head', () => {
  it('a resume at head yields one empty batch with replay_complete, then live events', async () => {
    const { runId, topic } = await createRunWithEvents(t, 'owner', 3);
    const probe = await resume(topic, 3);
    try {
      const batch = await probe.waitFor<UpdateBatchFrame>((f) => f.type === 'update_batch');
      expect(batch).toEqual({ type: 'update_batch', updates: [], replay_complete: true, head_watermarks: { [topic]: 3 } });
      await appendEvents(t, runId, 1, 50);
      await probe.waitFor((f) => f.type === 'update_batch' && f.updates.length > 0);
      expect(probe.seqs(topic)).toEqual([4]);
    } finally {
      probe.close();
    }
  });

  it('a resume at head succeeds after pruning, and on a topic with no events', async () => {
    const pruned = await createRunWithEvents(t, 'owner', RETENTION + 12);
    const window = await poll(pruned.topic, RETENTION + 12);
    expect(window.body.oldest_available_seq).toBe(13);
    const probe = await resume(pruned.topic, RETENTION + 12);
    const empty = await createRunWithEvents(t, 'owner', 0);
    const emptyProbe = await resume(empty.topic, 0);
    try {
      expect(await firstOutcome(probe)).toMatchObject({ type: 'update_batch', updates: [], replay_complete: true });
      expect(await firstOutcome(emptyProbe)).toMatchObject({ type: 'update_batch', updates: [], replay_complete: true });
    } finally {
      probe.close();
      emptyProbe.close();
    }
  });

  it('a cursor ahead of head is bad_subscription for that topic only', async () => {
    const a = await createRunWithEvents(t, 'owner', 2);
    const b = await createRunWithEvents(t, 'owner', 2);
    const probe = await FrameProbe.open(wsUrl(t), token);
    try {
      probe.send({ type: 'subscribe', request_id: 'r', topics: [a.topic, b.topic], resume_after: { [a.topic]: { seq: 3 }, [b.topic]: { seq: 0 } } });
      const error = await probe.waitFor<ErrorFrame>((f) => f.type === 'error');
      expect(error).toMatchObject({ code: 'bad_subscription', topic: a.topic, details: { reason_code: 'cursor_ahead_of_head' } });
      await probe.waitFor((f) => f.type === 'update_batch' && f.replay_complete);
      expect(probe.seqs(b.topic)).toEqual([1, 2]);
      const ahead = await poll(a.topic, 3);
      expect(ahead.status).toBe(400);
      expect(ahead.body.error.details.reason_code).toBe('cursor_ahead_of_head');
    } finally {
      probe.close();
    }
  });
});

describe('K6 deterministic stale cursor', () => {
  // Retention R = 30 > budget B = 20: with H = 42, F = 13.
  let topic: string;
  let runId: string;
  beforeAll(async () => {
    ({ topic, runId } = await createRunWithEvents(t, 'owner', 42));
  });

  it('exactly the budget replays, one more is replay_budget_exceeded', async () => {
    const ok = await resume(topic, 42 - BUDGET);
    const stale = await resume(topic, 42 - BUDGET - 1);
    try {
      await ok.waitFor((f) => f.type === 'update_batch' && f.replay_complete);
      expect(ok.seqs(topic)).toEqual(Array.from({ length: BUDGET }, (_, i) => 42 - BUDGET + 1 + i));
      const error = (await firstOutcome(stale)) as ErrorFrame;
      expect(error.code).toBe('stale_cursor');
      expect(error.details).toMatchObject({
        topic, requested_seq: 21, oldest_available_seq: 13, head_seq: 42, replay_budget_events: BUDGET,
        reason_codes: ['replay_budget_exceeded'], recovery: 'reset_local_watermark_and_replay_bootstrap',
      });
      expect(stale.seqs(topic)).toEqual([]); // never a partial replay
    } finally {
      ok.close();
      stale.close();
    }
  });

  it('the retention floor: F−1 is served over HTTP poll (which ignores the budget), F−2 is 410 retention_floor_breach', async () => {
    const atFloor = await poll(topic, 12);
    expect(atFloor.status).toBe(200);
    expect(atFloor.body.messages[0].seq).toBe(13);
    const below = await poll(topic, 11);
    expect(below.status).toBe(410);
    expect(below.body.error.code).toBe('stale_cursor');
    expect(below.body.error.details).toMatchObject({ requested_seq: 11, oldest_available_seq: 13, reason_codes: ['retention_floor_breach'] });
  });

  it('lists both reasons, floor first, with a run-summary snapshot from which the resume succeeds', async () => {
    const probe = await resume(topic, 5);
    try {
      const error = (await firstOutcome(probe)) as ErrorFrame;
      const details = error.details as any;
      expect(details.reason_codes).toEqual(['retention_floor_breach', 'replay_budget_exceeded']);
      expect(details.snapshot).toEqual({ schema: 'openagents.sync.snapshot.v1', doc_key: `runtime/run_summary:${runId}`, as_of_seq: 42, payload: { run_id: runId, status: 'running', latest_seq: 42, last_event_type: 'run.step' } });
      probe.send({ type: 'subscribe', request_id: 'r2', topics: [topic], resume_after: { [topic]: { seq: details.snapshot.as_of_seq, epoch: details.epoch } } });
      expect(await probe.waitFor((f) => f.type === 'update_batch')).toMatchObject({ updates: [], replay_complete: true });
    } finally {
      probe.close();
    }
  });
});

describe('K7 epochs', () => {
  it('a different epoch is stale_cursor ["epoch_mismatch"] before ahead-of-head and K6; the right or no epoch is accepted', async () => {
    const { topic } = await createRunWithEvents(t, 'owner', 3);
    for (const seq of [1, 999, 0]) {
      const probe = await resume(topic, seq, 'e-made-up');
      try {
        const error = (await firstOutcome(probe)) as ErrorFrame;
        expect(error.code, `seq ${seq}`).toBe('stale_cursor');
        expect((error.details as any).reason_codes).toEqual(['epoch_mismatch']);
      } finally {
        probe.close();
      }
    }
    const epoch = (await db.pool.query('SELECT epoch FROM runtime.sync_topic_sequences WHERE topic = $1', [topic])).rows[0].epoch;
    const right = await resume(topic, 1, epoch);
    try {
      await right.waitFor((f) => f.type === 'update_batch' && f.replay_complete);
      expect(right.seqs(topic)).toEqual([2, 3]);
    } finally {
      right.close();
    }
  });
});

describe('K3 and K8: one immutable ledger on every surface', () => {
  it('WS replay, HTTP poll pages and SSE expose the same (seq, payload_hash) pairs, equal to the write responses', async () => {
    const created = await t.api.call('POST', '/internal/v1/runs', { headers: { 'x-oa-user-id': 'owner' } });
    const runId = created.body.run.id;
    const topic = `run:${runId}:events`;
    const written: [number, string][] = [];
    for (let i = 0; i < BUDGET - 2; i++) {
      const r = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: `s${i}`, payload: { i, nested: { z: [i, 'x'], a: null } } } });
      written.push([r.body.event.seq, r.body.event.payload_hash]);
      expect(r.body.event.payload_hash).toBe(payloadHash(r.body.event.payload));
    }
    const ledgerTail = written.slice(-RETENTION);

    const probe = await resume(topic, 0);
    let ws: [number, string][];
    try {
      await probe.waitFor((f) => f.type === 'update_batch' && f.replay_complete);
      ws = probe.frames.flatMap((f) => (f.type === 'update_batch' ? f.updates.map((u) => [u.seq, u.payload_hash] as [number, string]) : []));
    } finally {
      probe.close();
    }
    const pollLedger: [number, string][] = [];
    for (let cursor = 0; ; ) {
      const page = await poll(topic, cursor, 10);
      pollLedger.push(...page.body.messages.map((m: any) => [m.seq, m.payload_hash] as [number, string]));
      expect(page.body.limit_applied).toBe(10);
      if (page.body.replay_complete) break;
      cursor = page.body.next_cursor;
    }
    const sse = await fetch(`${t.url}/internal/v1/runs/${runId}/stream?cursor=0`, { headers: { authorization: `Bearer ${t.config.internalToken}` } });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const text = await sse.text(); // without tail_ms the stream ends once caught up
    const sseLedger = text.split('\n\n').filter(Boolean).map((block) => {
      const id = Number(/^id: (\d+)$/m.exec(block)![1]);
      const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!);
      expect(data.seq).toBe(id);
      expect(/^event: message$/m.test(block)).toBe(true);
      return [data.seq, data.payload_hash] as [number, string];
    });
    expect(ws).toEqual(ledgerTail);
    expect(pollLedger).toEqual(ledgerTail);
    expect(sseLedger).toEqual(ledgerTail);
  });

  it('SSE honours Last-Event-ID, rejects a disagreeing cursor, and answers 410 below the floor', async () => {
    const { runId } = await createRunWithEvents(t, 'owner', RETENTION + 5);
    const headers = { authorization: `Bearer ${t.config.internalToken}` };
    const resumed = await (await fetch(`${t.url}/internal/v1/runs/${runId}/stream`, { headers: { ...headers, 'last-event-id': '33' } })).text();
    expect([...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([34, 35]);
    const conflict = await t.api.call('GET', `/internal/v1/runs/${runId}/stream?cursor=2`, { headers: { 'last-event-id': '3' } });
    expect(conflict.status).toBe(400);
    const stale = await t.api.call('GET', `/internal/v1/runs/${runId}/stream?cursor=1`);
    expect(stale.status).toBe(410);
    expect(stale.body.error.details.reason_codes).toEqual(['retention_floor_breach']);
  });

  it('SSE with tail_ms stays open and streams events written meanwhile', async () => {
    const { runId } = await createRunWithEvents(t, 'owner', 1);
    const response = await fetch(`${t.url}/internal/v1/runs/${runId}/stream?cursor=0&tail_ms=5000`, { headers: { authorization: `Bearer ${t.config.internalToken}` } });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (id: number) => {
      while (!new RegExp(`^id: ${id}$`, 'm').test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before id ${id}: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    // The replay is on the wire before the writes: what follows can only come from the tail.
    await readUntil(1);
    await appendEvents(t, runId, 2, 10);
    await readUntil(3);
    await reader.cancel();
    expect([...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([1, 2, 3]);
  });
});

describe('protocol details', () => {
  it('answers ping with pong, malformed and unknown frames with invalid_request, a bad subscribe with bad_subscription', async () => {
    const probe = await FrameProbe.open(wsUrl(t), token);
    try {
      probe.send({ type: 'ping', request_id: 'p1' });
      expect(await probe.waitFor((f) => f.type === 'pong')).toEqual({ type: 'pong', request_id: 'p1' });
      probe.send('{not json');
      expect(await probe.waitFor((f) => f.type === 'error' && (f.details as any).reason_code === 'malformed_json')).toMatchObject({ code: 'invalid_request' });
      probe.send({ type: 'teleport', request_id: 'x' });
      expect(await probe.waitFor((f) => f.type === 'error' && (f.details as any).reason_code === 'unknown_type')).toMatchObject({ code: 'invalid_request', request_id: 'x' });
      probe.send({ type: 'subscribe', request_id: 's', topics: [] });
      expect(await probe.waitFor((f) => f.type === 'error' && f.code === 'bad_subscription')).toMatchObject({ request_id: 's', details: { reason_code: 'invalid_frame' } });
      probe.send({ type: 'ping', request_id: 'p2' });
      await probe.waitFor((f) => f.type === 'pong' && f.request_id === 'p2');
      expect(probe.closeCode).toBeUndefined();
    } finally {
      probe.close();
    }
  });

  it('sends heartbeats with the watermark of every subscribed topic', async () => {
    const { topic } = await createRunWithEvents(t, 'owner', 4);
    const probe = await resume(topic, 4);
    try {
      const heartbeat = await probe.waitFor((f) => f.type === 'heartbeat' && topic in f.watermarks, 3000);
      expect(heartbeat).toEqual({ type: 'heartbeat', watermarks: { [topic]: 4 } });
    } finally {
      probe.close();
    }
  });

  it('prunes the journal to the retention and reports the window in fan-out metrics', async () => {
    const { topic } = await createRunWithEvents(t, 'owner', RETENTION + 3);
    const { rows } = await db.pool.query('SELECT min(seq)::int AS min, max(seq)::int AS max, count(*)::int AS n FROM runtime.sync_stream_events WHERE topic = $1', [topic]);
    expect(rows[0]).toEqual({ min: 4, max: RETENTION + 3, n: RETENTION });
    const probe = await resume(topic, RETENTION + 3);
    await probe.waitFor((f) => f.type === 'update_batch');
    probe.close();
    const metrics = await t.api.call('GET', '/internal/v1/khala/fanout/metrics');
    const window = metrics.body.topics.find((w: any) => w.topic === topic);
    expect(window).toMatchObject({ topic_class: 'run_events', oldest_available_seq: 4, head_seq: RETENTION + 3, replay_budget_events: BUDGET });
    const prometheus = await t.api.call('GET', '/metrics', { token: null });
    expect(prometheus.text).toMatch(/khala_deliveries_total\{topic_class="run_events"\} [1-9]/);
    expect(prometheus.text).toMatch(/khala_stale_cursors_total\{reason_code="replay_budget_exceeded"\} [1-9]/);
  });
});
