/**
 * Replay throughput (SPEC §6): a fresh WS subscribe from seq 0 on an N-event topic
 * until replay_complete, next to the raw baseline — `SELECT seq, payload FROM
 * runtime.sync_stream_events WHERE topic = $1 ORDER BY seq` streamed through a pg
 * cursor in the same process, on the same database.
 *
 *   npx tsx bench/replay-throughput.ts [--events 100000]
 *
 * Starts its own embedded PostgreSQL and reference server (replay budget and
 * retention raised above N), loopback only; prints one JSON line.
 */
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Cursor from 'pg-cursor';
import { toRuntimeConfig } from '../reference-server/config/runtime-config.ts';
import { loadRuntimeEnv } from '../reference-server/config/runtime-env.ts';
import { startEmbeddedDatabase } from '../reference-server/db/embedded-database.ts';
import { migrate } from '../reference-server/db/migrate.ts';
import { createPool } from '../reference-server/db/pool.ts';
import { createLogger } from '../reference-server/logger.ts';
import { createReferenceServer } from '../reference-server/server.ts';
import WebSocket from 'ws';
import { KhalaClient } from '../harness/khala/khala-client.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' } } });
const events = Number(values.events);
const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-bench-'));
chmodSync(dir, 0o755);
const db = await startEmbeddedDatabase({ dataDir: dir, databaseName: 'bench' });
const pool = createPool(db.url, { max: 10 });
try {
  await migrate(pool, { buildSha: 'bench' });
  const env = loadRuntimeEnv({
    DATABASE_URL: db.url,
    LOG_LEVEL: 'silent',
    RUNTIME_KHALA_RUN_EVENTS_REPLAY_BUDGET_EVENTS: String(events * 2),
    RUNTIME_KHALA_RUN_EVENTS_RETENTION_EVENTS: String(events * 2),
  });
  const config = toRuntimeConfig(env);
  const server = await createReferenceServer({ pool, config, logger: createLogger('silent') });
  const { url } = await server.listen({ host: '127.0.0.1', port: 0 });
  const auth = { authorization: `Bearer ${config.internalToken}`, 'content-type': 'application/json' };
  const run = await (await fetch(`${url}/internal/v1/runs`, { method: 'POST', headers: { ...auth, 'x-oa-user-id': 'bench' }, body: '{}' })).json() as { run: { id: string } };
  const topic = `run:${run.run.id}:events`;
  // The journal is filled in bulk (the append path is measured elsewhere).
  await pool.query(
    `INSERT INTO runtime.sync_stream_events (topic, seq, epoch, doc_key, doc_version, event_type, payload, payload_hash)
     SELECT $1, s, (SELECT epoch FROM runtime.sync_topic_sequences WHERE topic = $1), 'runtime/run_summary:' || $2, s, 'run.step',
            jsonb_build_object('i', s, 'text', 'event number ' || s), encode(sha256(convert_to(jsonb_build_object('i', s, 'text', 'event number ' || s)::text, 'UTF8')), 'hex')
       FROM generate_series(1, $3::int) s`,
    [topic, run.run.id, events],
  );
  await pool.query('UPDATE runtime.sync_topic_sequences SET head_seq = $2 WHERE topic = $1', [topic, events]);

  // Raw baseline: a pg cursor over the same rows, 1000 at a time.
  const rawStart = performance.now();
  const client = await pool.connect();
  let rawRows = 0;
  try {
    const cursor = client.query(new Cursor('SELECT seq, payload FROM runtime.sync_stream_events WHERE topic = $1 ORDER BY seq', [topic]));
    for (;;) {
      const rows = await cursor.read(1000);
      if (rows.length === 0) break;
      rawRows += rows.length;
    }
    await cursor.close();
  } finally {
    client.release();
  }
  const rawSeconds = (performance.now() - rawStart) / 1000;

  const token = (await (await fetch(`${url}/internal/v1/sync/token`, { method: 'POST', headers: auth, body: JSON.stringify({ sub: 'bench', scopes: ['runtime.run_events'], ttl_seconds: 600 }) })).json() as { token: string }).token;
  // Wire rate: a bare socket that parses each frame and counts updates (the server's side of replay).
  const wireStart = performance.now();
  const wireCount = await new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/internal/v1/khala/ws`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    let count = 0;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', request_id: 'b', topics: [topic], resume_after: { [topic]: { seq: 0 } } })));
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; updates?: unknown[]; replay_complete?: boolean };
      if (frame.type !== 'update_batch') return;
      count += frame.updates!.length;
      if (frame.replay_complete) {
        socket.close();
        resolve(count);
      }
    });
    socket.on('error', reject);
  });
  const wireSeconds = (performance.now() - wireStart) / 1000;

  const wsStart = performance.now();
  let applied = 0;
  const khala = new KhalaClient({ url: `${url.replace('http', 'ws')}/internal/v1/khala/ws`, token, topics: [topic], validateFrames: false, onApply: () => { applied += 1; } });
  await khala.start();
  await khala.waitForSeq(topic, events, 300_000);
  const wsSeconds = (performance.now() - wsStart) / 1000;
  await khala.close();
  await server.close();
  const clientRate = applied / wsSeconds;
  const wireRate = wireCount / wireSeconds;
  const rawRate = rawRows / rawSeconds;
  console.log(JSON.stringify({
    events,
    raw_cursor_rows_per_s: Math.round(rawRate),
    replay_wire_events_per_s: Math.round(wireRate),
    replay_wire_ratio: Number((wireRate / rawRate).toFixed(2)),
    replay_client_events_per_s: Math.round(clientRate),
    replay_client_ratio: Number((clientRate / rawRate).toFixed(2)),
    note: 'wire = bare socket parsing frames; client = KhalaClient applying with payload_hash verification',
  }));
} finally {
  await pool.end();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}
