/**
 * The Khala client's K2 rules against a scripted WebSocket server that duplicates,
 * reorders, corrupts and drops updates.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it , vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { KhalaUpdate } from '../../contracts/generated/khala-frames.ts';
import { payloadHash } from '../../contracts/payload-hash.ts';
import { KhalaClient } from '../../harness/khala/khala-client.ts';

const TOPIC = 'run:r1:events';
function update(seq: number, payload: Record<string, unknown> = { seq }): KhalaUpdate {
  return { topic: TOPIC, seq, epoch: 'e1', doc_key: 'runtime/run_summary:r1', doc_version: seq, event_type: 'run.step', payload, payload_hash: payloadHash(payload), published_at: '2026-01-01T00:00:00.000Z' };
}
const batch = (updates: KhalaUpdate[]) => JSON.stringify({ type: 'update_batch', updates, replay_complete: true, head_watermarks: { [TOPIC]: Math.max(0, ...updates.map((u) => u.seq)) } });

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A scripted server: `script(ws, subscribe, connectionIndex)` runs on each subscribe frame. */
async function scriptedServer(script: (ws: WebSocket, subscribe: any, connection: number) => void): Promise<string> {
  server = createServer();
  const wss = new WebSocketServer({ server });
  let connections = 0;
  wss.on('connection', (ws) => {
    const index = connections++;
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type !== 'subscribe') return;
      ws.send(JSON.stringify({ type: 'subscribed', request_id: frame.request_id, subscription_id: 's', heartbeat_ms: 100, topics: { [TOPIC]: { head_seq: 6, oldest_available_seq: 1, epoch: 'e1', qos_tier: 'warm' } } }));
      script(ws, frame, index);
    });
  });
  server.on('close', () => {
    for (const client of wss.clients) client.terminate();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/internal/v1/khala/ws`;
}

describe('KhalaClient (K2)', () => {
  it('discards duplicates, buffers reordered updates and applies each seq once, in order', async () => {
    const url = await scriptedServer((ws) => {
      ws.send(batch([update(2), update(1), update(1)]));
      ws.send(batch([update(4), update(3), update(2), update(5)]));
    });
    const applied: number[] = [];
    const client = new KhalaClient({ url, token: 't', topics: [TOPIC], onApply: (u) => applied.push(u.seq) });
    await client.start();
    await client.waitForSeq(TOPIC, 5, 2000);
    await client.close();
    expect(applied).toEqual([1, 2, 3, 4, 5]);
    const kinds = client.anomalies.map((a) => `${a.kind}:${a.seq}`);
    expect(kinds).toEqual(expect.arrayContaining(['out_of_order:2', 'duplicate:1', 'out_of_order:4', 'duplicate:2']));
  });

  it('resubscribes from last_applied_seq when a gap does not fill, and ends with the exact ledger', async () => {
    const subscribes: any[] = [];
    const url = await scriptedServer((ws, subscribe) => {
      subscribes.push(subscribe);
      const after = subscribe.resume_after?.[TOPIC]?.seq ?? 0;
      if (subscribes.length === 1) ws.send(batch([update(1), update(2), update(4)])); // 3 is lost
      else ws.send(batch([3, 4, 5].filter((s) => s > after).map((s) => update(s))));
    });
    const applied: number[] = [];
    const client = new KhalaClient({ url, token: 't', topics: [TOPIC], gapTimeoutMs: 100, onApply: (u) => applied.push(u.seq) });
    await client.start();
    await client.waitForSeq(TOPIC, 5, 3000);
    await client.close();
    expect(applied).toEqual([1, 2, 3, 4, 5]);
    expect(subscribes[1].resume_after).toEqual({ [TOPIC]: { seq: 2, epoch: 'e1' } });
    expect(client.anomalies.some((a) => a.kind === 'gap' && a.seq === 3)).toBe(true);
  });

  it('reports a payload_hash that does not match its payload, and a seq that changes content', async () => {
    const url = await scriptedServer((ws) => {
      ws.send(batch([update(1), { ...update(2), payload_hash: 'f'.repeat(64) }]));
      ws.send(batch([update(1, { other: true })]));
    });
    const client = new KhalaClient({ url, token: 't', topics: [TOPIC] });
    await client.start();
    await client.waitForSeq(TOPIC, 2, 2000);
    await vi.waitFor(() => expect(client.anomalies.map((a) => `${a.kind}:${a.seq}`)).toEqual(expect.arrayContaining(['hash_mismatch:2', 'hash_changed:1'])), { timeout: 3000 });
    await client.close();
  });

  it('reconnects after a dropped connection and resumes after the last applied seq', async () => {
    const url = await scriptedServer((ws, subscribe, connection) => {
      if (connection === 0) {
        ws.send(batch([update(1), update(2)]));
        setTimeout(() => ws.terminate(), 20);
      } else {
        expect(subscribe.resume_after[TOPIC].seq).toBe(2);
        ws.send(batch([update(2), update(3)]));
      }
    });
    const applied: number[] = [];
    const client = new KhalaClient({ url, token: 't', topics: [TOPIC], reconnect: { initialDelayMs: 5 }, onApply: (u) => applied.push(u.seq) });
    await client.start();
    await client.waitForSeq(TOPIC, 3, 3000);
    await client.close();
    expect(applied).toEqual([1, 2, 3]);
    expect(client.connections).toBe(2);
  });

  it('flags frames that break the contract', async () => {
    const url = await scriptedServer((ws) => {
      ws.send(JSON.stringify({ type: 'update_batch', updates: [{ ...update(1), seq: 'one' }], replay_complete: true, head_watermarks: {} }));
      ws.send('not json');
    });
    const client = new KhalaClient({ url, token: 't', topics: [TOPIC] });
    await client.start();
    await vi.waitFor(() => expect(client.anomalies.filter((a) => a.kind === 'invalid_frame')).toHaveLength(2), { timeout: 3000 });
    await client.close();
  });
});
