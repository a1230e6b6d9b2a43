/**
 * Append → WebSocket delivery latency (SPEC §6): one run, N live subscribers on its
 * topic (in a worker thread, bench/latency-subscribers.ts), appends offered at a fixed
 * rate from this thread; each event carries its send time and each subscriber records
 * receipt − send for every event.
 */
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { BenchHttp } from './bench-support.ts';
import { percentile } from './bench-support.ts';

/** A worker entry that loads a TypeScript module through tsx (loader hooks do not reach worker threads on Node 20). */
function tsWorkerUrl(module: URL): URL {
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import { tsImport } from ${JSON.stringify(api)}; await tsImport(${JSON.stringify(module.href)}, ${JSON.stringify(import.meta.url)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

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
  const worker = new Worker(tsWorkerUrl(new URL('./latency-subscribers.ts', import.meta.url)), { workerData: { wsUrl, token, topic, subscribers: options.subscribers } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
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
      const stamp = performance.timeOrigin + t;
      const p = http
        .call('POST', `/internal/v1/runs/${runId}/events`, { event_type: 'run.step', idempotency_key: `bench-latency-${i}`, payload: { i, t: stamp } })
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
  const latencies = await new Promise<number[]>((resolve, reject) => {
    worker.once('message', (message: { latencies: number[] }) => resolve(message.latencies));
    worker.once('error', reject);
    worker.postMessage({ type: 'finish', expected, timeoutMs: 10_000 });
  });
  await worker.terminate();
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

export interface RawCommitLatency {
  offered_per_s: number;
  commits: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/**
 * The raw floor under the delivery figure: single-row INSERT transactions offered at
 * the same fixed rate on the same database (each needs its WAL flush, as an append does).
 */
export async function measureRawCommitLatency(pool: pg.Pool, ratePerSecond: number, durationMs: number): Promise<RawCommitLatency> {
  await pool.query('CREATE SCHEMA IF NOT EXISTS bench');
  await pool.query('DROP TABLE IF EXISTS bench.raw_latency');
  await pool.query('CREATE TABLE bench.raw_latency (i int PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  const total = Math.round((ratePerSecond * durationMs) / 1000);
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * ratePerSecond) / 1000) + 1);
    for (; sent < due; sent += 1) {
      const i = sent;
      const t = performance.now();
      const p = (async () => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('INSERT INTO bench.raw_latency (i, payload) VALUES ($1, $2)', [i, JSON.stringify({ i, t })]);
          await client.query('COMMIT');
          latencies.push(performance.now() - t);
        } finally {
          client.release();
        }
      })().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  await pool.query('DROP TABLE bench.raw_latency');
  latencies.sort((a, b) => a - b);
  const r = (v: number) => Number(v.toFixed(2));
  return { offered_per_s: ratePerSecond, commits: latencies.length, p50_ms: r(percentile(latencies, 50)), p99_ms: r(percentile(latencies, 99)), max_ms: r(latencies[latencies.length - 1] ?? Number.NaN) };
}
