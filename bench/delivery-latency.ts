/**
 * Append → WebSocket delivery latency (SPEC §6): one run, N live subscribers on its
 * topic, appends offered at a fixed rate; each event carries its send time (this
 * process's clock) and each subscriber records receipt − send for every event.
 */
import WebSocket from 'ws';
import type { BenchHttp } from './bench-support.ts';
import { percentile } from './bench-support.ts';

export interface DeliveryResult {
  subscribers: number;
  offered_events_per_s: number;
  events: number;
  achieved_events_per_s: number;
  deliveries: number;
  expected_deliveries: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  append_ack_p50_ms: number;
  append_ack_p99_ms: number;
  append_errors: number;
}

export async function measureDeliveryLatency(
  http: BenchHttp,
  wsUrl: string,
  token: string,
  options: { subscribers: number; ratePerSecond: number; durationMs: number },
): Promise<DeliveryResult> {
  const runId = await http.createRun('bench');
  const topic = `run:${runId}:events`;
  const latencies: number[] = [];
  const sockets = await Promise.all(
    Array.from(
      { length: options.subscribers },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
          socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', request_id: 's', topics: [topic] })));
          socket.on('message', (data) => {
            const now = performance.now();
            const frame = JSON.parse(data.toString()) as { type: string; updates?: { payload: { t: number } }[]; code?: string };
            if (frame.type === 'subscribed') resolve(socket);
            else if (frame.type === 'update_batch') for (const update of frame.updates!) latencies.push(now - update.payload.t);
            else if (frame.type === 'error') reject(new Error(`subscribe failed: ${JSON.stringify(frame)}`));
          });
          socket.on('error', reject);
        }),
    ),
  );
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const acks: number[] = [];
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * options.ratePerSecond) / 1000) + 1);
    for (; sent < due; sent += 1) {
      const t = performance.now();
      const i = sent;
      const p = http
        .call('POST', `/internal/v1/runs/${runId}/events`, { event_type: 'run.step', idempotency_key: `bench-latency-${i}`, payload: { i, t } })
        .then((res) => {
          if (res.status === 200) acks.push(performance.now() - t);
          else errors += 1;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const sendSeconds = (performance.now() - start) / 1000;
  const expected = (total - errors) * options.subscribers;
  const waitUntil = performance.now() + 10_000;
  while (latencies.length < expected && performance.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const socket of sockets) socket.terminate();
  latencies.sort((a, b) => a - b);
  acks.sort((a, b) => a - b);
  const r = (v: number) => Number(v.toFixed(2));
  return {
    subscribers: options.subscribers,
    offered_events_per_s: options.ratePerSecond,
    events: total,
    achieved_events_per_s: Math.round(total / sendSeconds),
    deliveries: latencies.length,
    expected_deliveries: expected,
    p50_ms: r(percentile(latencies, 50)),
    p99_ms: r(percentile(latencies, 99)),
    max_ms: r(latencies[latencies.length - 1] ?? Number.NaN),
    append_ack_p50_ms: r(percentile(acks, 50)),
    append_ack_p99_ms: r(percentile(acks, 99)),
    append_errors: errors,
  };
}
