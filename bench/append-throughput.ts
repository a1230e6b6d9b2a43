/**
 * Append throughput (SPEC §6): `POST /internal/v1/runs/{id}/events` from concurrent
 * clients, one run each, next to the raw baseline — a loop of single-row
 * `BEGIN; INSERT; COMMIT` transactions from as many workers on a pool of the server's size.
 */
import type pg from 'pg';
import type { BenchHttp } from './bench-support.ts';

export interface AppendResult {
  clients: number;
  runs: number;
  duration_s: number;
  events: number;
  events_per_s: number;
  errors: number;
  /** Answers that were idempotent replays (0 unless keys repeat). */
  replays: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
}

export async function measureAppendThroughput(http: BenchHttp, runIds: string[], durationMs: number): Promise<AppendResult> {
  const latencies: number[] = [];
  let errors = 0;
  let events = 0;
  let replays = 0;
  const round = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const deadline = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    runIds.map(async (runId, client) => {
      for (let i = 0; performance.now() < deadline; i += 1) {
        const t0 = performance.now();
        const res = await http.call('POST', `/internal/v1/runs/${runId}/events`, {
          event_type: 'run.step',
          idempotency_key: `bench-append-${round}-${client}-${i}`,
          payload: { i, client, text: `append number ${i}` },
        });
        if (res.status === 200) {
          events += 1;
          if ((res.body as { idempotent_replay?: boolean }).idempotent_replay) replays += 1;
          latencies.push(performance.now() - t0);
        } else {
          errors += 1;
          if (errors === 1) console.error(`bench: append answered ${res.status}: ${JSON.stringify(res.body)}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    clients: runIds.length,
    runs: runIds.length,
    duration_s: Number(seconds.toFixed(2)),
    events,
    events_per_s: Math.round(events / seconds),
    errors,
    replays,
    ack_p50_ms: Number((latencies[Math.floor(latencies.length * 0.5)] ?? Number.NaN).toFixed(2)),
    ack_p99_ms: Number((latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN).toFixed(2)),
  };
}

export interface RawInsertResult {
  workers: number;
  pool_max: number;
  duration_s: number;
  rows: number;
  rows_per_s: number;
}

/** The raw baseline: each row its own BEGIN / INSERT / COMMIT on a pooled connection. */
export async function measureRawSingleRowInserts(pool: pg.Pool, poolMax: number, workers: number, durationMs: number): Promise<RawInsertResult> {
  await pool.query('CREATE SCHEMA IF NOT EXISTS bench');
  await pool.query('DROP TABLE IF EXISTS bench.raw_inserts');
  await pool.query('CREATE TABLE bench.raw_inserts (worker int NOT NULL, i int NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (worker, i))');
  let rows = 0;
  const deadline = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i += 1) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('INSERT INTO bench.raw_inserts (worker, i, payload) VALUES ($1, $2, $3)', [worker, i, JSON.stringify({ i, client: worker, text: `append number ${i}` })]);
          await client.query('COMMIT');
          rows += 1;
        } finally {
          client.release();
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await pool.query('DROP TABLE bench.raw_inserts');
  return { workers, pool_max: poolMax, duration_s: Number(seconds.toFixed(2)), rows, rows_per_s: Math.round(rows / seconds) };
}
