/**
 * Load and ledger helpers shared by the reliability tests and `npm run soak`: writers
 * that append through the HTTP API and retry an unanswered write with the same
 * idempotency key, Khala subscribers that record the ledger they applied, and checks
 * of the journal against both (nothing acknowledged lost, seqs gapless, every
 * subscriber's ledger equal to the journal).
 *
 * No vitest imports here: scripts/soak.ts uses it too.
 */
import type pg from 'pg';
import { KhalaClient } from '../../harness/khala/khala-client.ts';
import { baseClaims, signClaims } from '../../harness/lanes/khala-support.ts';
import { devDefault } from '../../reference-server/config/runtime-env.ts';

export const DEV_INTERNAL_TOKEN = devDefault('RUNTIME_INTERNAL_TOKEN');
export const DEV_SIGNING_KEY = devDefault('RUNTIME_SYNC_TOKEN_SIGNING_KEY');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A sync token signed with the server's key (valid across server restarts). */
export function signSyncToken(sub: string, key = DEV_SIGNING_KEY, extra: Record<string, unknown> = {}): Promise<string> {
  const target = { name: 'load', base_url: 'http://load.invalid', sync_signing_key: key };
  return signClaims(target, { ...baseClaims(target, sub), exp: Math.floor(Date.now() / 1000) + 3600, ...extra });
}

export async function createRun(baseUrl: string, owner: string, token = DEV_INTERNAL_TOKEN): Promise<{ runId: string; topic: string }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`${baseUrl}/internal/v1/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'x-oa-user-id': owner, 'content-type': 'application/json' },
        body: JSON.stringify({ thread_id: `thread-${owner}` }),
        signal: AbortSignal.timeout(5000),
      });
      const body = (await response.json()) as { run: { id: string } };
      if (response.status !== 201) throw new Error(`POST /internal/v1/runs → ${response.status} ${JSON.stringify(body)}`);
      return { runId: body.run.id, topic: `run:${body.run.id}:events` };
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(100);
    }
  }
}

export interface AckedEvent {
  runId: string;
  key: string;
  seq: number;
  payloadHash: string;
  replay: boolean;
}

export interface WriterStats {
  /** Writes answered 200 (first write or idempotent replay), by idempotency key. */
  acked: Map<string, AckedEvent>;
  /** Attempts that got no answer (refused, reset, timeout). */
  unanswered: number;
  /** Answers by status other than 200. */
  statuses: Record<string, number>;
  /** 200 answers that were idempotent replays of an earlier, unanswered attempt. */
  replays: number;
  /** A replayed key that came back with another seq or hash than a previous 2xx: must stay 0. */
  conflicts: string[];
}

export interface Writers {
  stats: WriterStats;
  /** Stops after each writer's current attempt; keys still unresolved stay unacknowledged. */
  stop(): Promise<void>;
}

/**
 * `count` writers appending to the given runs (writer i → runs[i % runs.length]) as fast
 * as the server answers. A write without an answer (or a 5xx/429) is retried with the same
 * key and body, so its outcome is settled by the idempotent replay.
 */
export function startWriters(options: { baseUrl: (writer: number) => string; runIds: string[]; count: number; label: string; token?: string; pauseMs?: number; payloadBytes?: number }): Writers {
  const stats: WriterStats = { acked: new Map(), unanswered: 0, statuses: {}, replays: 0, conflicts: [] };
  let stopped = false;
  const filler = 'x'.repeat(options.payloadBytes ?? 0);
  const writer = async (index: number) => {
    const runId = options.runIds[index % options.runIds.length]!;
    for (let n = 0; !stopped; n++) {
      const key = `${options.label}-w${index}-${n}`;
      const body = JSON.stringify({ event_type: 'reliability.step', idempotency_key: key, payload: { writer: index, n, label: options.label, ...(filler ? { filler } : {}) } });
      for (let attempt = 0; !stopped || attempt === 0; attempt++) {
        let status = 0;
        let parsed: { event?: { seq: number; payload_hash: string }; idempotent_replay?: boolean } | undefined;
        try {
          const response = await fetch(`${options.baseUrl(index)}/internal/v1/runs/${runId}/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${options.token ?? DEV_INTERNAL_TOKEN}`, 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(5000),
          });
          status = response.status;
          parsed = (await response.json().catch(() => undefined)) as typeof parsed;
        } catch {
          stats.unanswered += 1;
        }
        if (status === 200 && parsed?.event) {
          const previous = stats.acked.get(key);
          if (previous && (previous.seq !== parsed.event.seq || previous.payloadHash !== parsed.event.payload_hash)) stats.conflicts.push(`${key}: seq ${previous.seq} then ${parsed.event.seq}`);
          if (parsed.idempotent_replay) stats.replays += 1;
          stats.acked.set(key, { runId, key, seq: parsed.event.seq, payloadHash: parsed.event.payload_hash, replay: parsed.idempotent_replay === true });
          break;
        }
        if (status !== 0) stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
        if (status >= 400 && status < 500 && status !== 429) {
          stats.conflicts.push(`${key}: unexpected ${status}`);
          break;
        }
        if (stopped) break;
        await sleep(status === 429 ? 100 : 50);
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  const running = Array.from({ length: options.count }, (_, i) => writer(i));
  return {
    stats,
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}

export interface LedgerEntry {
  seq: number;
  payloadHash: string;
}

/** A KhalaClient that records, per topic, every update it applied (K2: in seq order, once). */
export interface RecordingSubscriber {
  client: KhalaClient;
  ledgers: Map<string, LedgerEntry[]>;
}

export async function startSubscriber(options: { wsUrl: () => string; topics: string[]; owner: string; signingKey?: string; gapTimeoutMs?: number }): Promise<RecordingSubscriber> {
  const ledgers = new Map<string, LedgerEntry[]>(options.topics.map((t) => [t, []]));
  const client = new KhalaClient({
    url: options.wsUrl(),
    token: () => signSyncToken(options.owner, options.signingKey),
    topics: options.topics,
    initialCursor: 0,
    gapTimeoutMs: options.gapTimeoutMs ?? 500,
    reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
    onApply: (update) => ledgers.get(update.topic)?.push({ seq: update.seq, payloadHash: update.payload_hash }),
  });
  // The URL is fixed per client; a server restarted on the same port is reached again.
  for (let attempt = 0; ; attempt++) {
    try {
      await client.start();
      break;
    } catch (error) {
      if (attempt >= 50) throw error;
      await sleep(100);
    }
  }
  return { client, ledgers };
}

export async function readJournal(pool: pg.Pool, topic: string): Promise<LedgerEntry[]> {
  const { rows } = await pool.query<{ seq: string; payload_hash: string }>('SELECT seq, payload_hash FROM runtime.sync_stream_events WHERE topic = $1 ORDER BY seq', [topic]);
  return rows.map((r) => ({ seq: Number(r.seq), payloadHash: r.payload_hash }));
}

/**
 * Every problem with the journal of the given runs: seqs not 1…N, an acknowledged event
 * missing, stored at another seq or hash, or stored more than once. Empty means no loss.
 */
export async function journalProblems(pool: pg.Pool, runIds: string[], acked: Map<string, AckedEvent>): Promise<string[]> {
  const problems: string[] = [];
  for (const runId of runIds) {
    const journal = await readJournal(pool, `run:${runId}:events`);
    journal.forEach((entry, i) => {
      if (entry.seq !== i + 1) problems.push(`run:${runId}:events: position ${i} holds seq ${entry.seq}, expected ${i + 1} (gap or duplicate)`);
    });
  }
  const { rows } = await pool.query<{ run_id: string; idempotency_key: string; seq: string; payload_hash: string; copies: string }>(
    `SELECT e.run_id, e.idempotency_key, e.seq, j.payload_hash,
            (SELECT count(*) FROM runtime.run_events c WHERE c.run_id = e.run_id AND c.payload = e.payload) AS copies
       FROM runtime.run_events e
       LEFT JOIN runtime.sync_stream_events j ON j.topic = 'run:' || e.run_id || ':events' AND j.seq = e.seq
      WHERE e.run_id = ANY($1)`,
    [runIds],
  );
  const stored = new Map(rows.map((r) => [`${r.run_id}/${r.idempotency_key}`, r]));
  for (const event of acked.values()) {
    const row = stored.get(`${event.runId}/${event.key}`);
    if (!row) {
      problems.push(`${event.key}: acknowledged with seq ${event.seq} but not in runtime.run_events`);
      continue;
    }
    if (Number(row.seq) !== event.seq) problems.push(`${event.key}: acknowledged seq ${event.seq}, stored at ${row.seq}`);
    if (row.payload_hash !== event.payloadHash) problems.push(`${event.key}: journal payload_hash ${row.payload_hash ?? 'missing'} ≠ acknowledged ${event.payloadHash}`);
    if (Number(row.copies) !== 1) problems.push(`${event.key}: stored ${row.copies} times`);
  }
  return problems;
}

/** Differences between a subscriber's applied ledger and the journal (first few only). */
export function ledgerDiff(topic: string, applied: LedgerEntry[], journal: LedgerEntry[]): string[] {
  const problems: string[] = [];
  if (applied.length !== journal.length) problems.push(`${topic}: applied ${applied.length} updates, journal holds ${journal.length}`);
  for (let i = 0; i < Math.min(applied.length, journal.length) && problems.length < 5; i++) {
    const a = applied[i]!;
    const j = journal[i]!;
    if (a.seq !== j.seq || a.payloadHash !== j.payloadHash) problems.push(`${topic}: position ${i}: applied seq ${a.seq} ${a.payloadHash.slice(0, 12)}, journal seq ${j.seq} ${j.payloadHash.slice(0, 12)}`);
  }
  return problems;
}

/** Waits until every subscriber applied its topics up to the journal head, then compares ledgers. */
export async function settleSubscribers(pool: pg.Pool, subscribers: RecordingSubscriber[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const problems: string[] = [];
  for (const { client, ledgers } of subscribers) {
    for (const topic of ledgers.keys()) {
      const journal = await readJournal(pool, topic);
      const head = journal.at(-1)?.seq ?? 0;
      try {
        await client.waitForSeq(topic, head, Math.max(1, deadline - Date.now()));
      } catch (error) {
        problems.push((error as Error).message);
      }
      problems.push(...ledgerDiff(topic, ledgers.get(topic)!, journal));
    }
  }
  return problems;
}

/** Anomalies a correct server and client must never produce (disconnects, duplicates and gaps are allowed transport facts). */
export const FATAL_ANOMALIES = new Set(['hash_mismatch', 'hash_changed', 'invalid_frame', 'unexpected_topic', 'rejected_topic']);

export function fatalAnomalies(subscribers: RecordingSubscriber[]): string[] {
  return subscribers.flatMap((s) => s.client.anomalies.filter((a) => FATAL_ANOMALIES.has(a.kind)).map((a) => `${a.kind} ${a.topic ?? ''} ${a.seq ?? ''}: ${a.detail}`));
}
