/**
 * Replay throughput (SPEC §6): a fresh WS subscribe from seq 0 on an N-event topic
 * until replay_complete, next to the raw baseline — `SELECT seq, payload FROM
 * runtime.sync_stream_events WHERE topic = $1 ORDER BY seq` streamed through a pg
 * cursor in this process, on the same database.
 *
 * Two consumers are timed: "wire" JSON-parses every frame and counts updates (what
 * any consumer must at least do); "client" is the harness KhalaClient, which also
 * canonicalizes and hashes every payload (K2/K3 checks).
 */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import WebSocket from 'ws';
import { KhalaClient } from '../harness/khala/khala-client.ts';
import { CATCH_UP_READ_ROWS } from '../reference-server/khala/khala-hub.ts';
import { readJournalPage } from '../reference-server/khala/topic-journal.ts';

/** Fills `run:{runId}:events` with `events` journal rows in bulk (the append path is measured elsewhere). */
export async function fillReplayTopic(pool: pg.Pool, runId: string, events: number): Promise<string> {
  const topic = `run:${runId}:events`;
  await pool.query(
    `INSERT INTO runtime.sync_stream_events (topic, seq, epoch, doc_key, doc_version, event_type, payload, payload_hash)
     SELECT $1, s, (SELECT epoch FROM runtime.sync_topic_sequences WHERE topic = $1), 'runtime/run_summary:' || $2, s, 'run.step',
            jsonb_build_object('i', s, 'text', 'event number ' || s), encode(sha256(convert_to(jsonb_build_object('i', s, 'text', 'event number ' || s)::text, 'UTF8')), 'hex')
       FROM generate_series(1, $3::int) s`,
    [topic, runId, events],
  );
  await pool.query('UPDATE runtime.sync_topic_sequences SET head_seq = $2 WHERE topic = $1', [topic, events]);
  await pool.query('VACUUM ANALYZE runtime.sync_stream_events');
  return topic;
}

export interface RateSample {
  count: number;
  seconds: number;
  per_s: number;
}

function sample(count: number, startMs: number): RateSample {
  const seconds = (performance.now() - startMs) / 1000;
  return { count, seconds: Number(seconds.toFixed(3)), per_s: Math.round(count / seconds) };
}

/** The raw baseline: the journal rows of `topic` through a pg cursor, 1000 at a time. */
export async function measureRawCursor(pool: pg.Pool, topic: string): Promise<RateSample> {
  const start = performance.now();
  const client = await pool.connect();
  let rows = 0;
  try {
    const cursor = client.query(new Cursor('SELECT seq, payload FROM runtime.sync_stream_events WHERE topic = $1 ORDER BY seq', [topic]));
    for (;;) {
      const page = await cursor.read(1000);
      if (page.length === 0) break;
      rows += page.length;
    }
    await cursor.close();
  } finally {
    client.release();
  }
  return sample(rows, start);
}

/**
 * The ceiling of the server's own read: its journal query (every update column, as
 * text) through readJournalPage in this process, 2000 rows per read, no WebSocket.
 */
export async function measureJournalRead(pool: pg.Pool, topic: string): Promise<RateSample> {
  const start = performance.now();
  let after = 0;
  let rows = 0;
  for (;;) {
    const page = await readJournalPage(pool, topic, after, CATCH_UP_READ_ROWS);
    if (page.length === 0) break;
    rows += page.length;
    after = page[page.length - 1]!.seq;
  }
  return sample(rows, start);
}

/** A bare socket: subscribe from seq 0, JSON-parse every frame, count updates until replay_complete. */
export async function measureWireReplay(wsUrl: string, token: string, topic: string): Promise<RateSample> {
  const start = performance.now();
  const count = await new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    let updates = 0;
    let next = 1;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', request_id: 'b', topics: [topic], resume_after: { [topic]: { seq: 0 } } })));
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; updates?: { seq: number }[]; replay_complete?: boolean };
      if (frame.type === 'error') reject(new Error(`replay failed: ${JSON.stringify(frame)}`));
      if (frame.type !== 'update_batch') return;
      for (const update of frame.updates!) {
        if (update.seq !== next) reject(new Error(`${topic}: expected seq ${next}, got ${update.seq}`));
        next += 1;
      }
      updates += frame.updates!.length;
      if (frame.replay_complete) {
        socket.close();
        resolve(updates);
      }
    });
    socket.on('error', reject);
  });
  return sample(count, start);
}

/** The harness KhalaClient (K2 apply rules, payload_hash verification) replaying from seq 0. */
export async function measureClientReplay(wsUrl: string, token: string, topic: string, events: number): Promise<RateSample> {
  const start = performance.now();
  let applied = 0;
  const khala = new KhalaClient({ url: wsUrl, token, topics: [topic], validateFrames: false, onApply: () => { applied += 1; } });
  try {
    await khala.start();
    await khala.waitForSeq(topic, events, 300_000);
  } finally {
    await khala.close();
  }
  return sample(applied, start);
}
