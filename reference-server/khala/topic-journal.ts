/**
 * Reads of the Khala journal (runtime.sync_stream_events) and topic windows
 * (runtime.sync_topic_sequences) shared by every surface — WS replay and live, HTTP
 * poll, SSE — so they expose one ledger (K8).
 */
import type { Pool } from 'pg';
import type { KhalaSnapshot, KhalaUpdate, StaleCursorDetails, TopicClass } from '../../contracts/generated/khala-frames.ts';
import type { TopicClassLimits } from '../config/runtime-config.ts';
import { QOS_TIER, topicClassOf } from './topics.ts';

/** Epoch reported for a topic nothing was ever written to (no sync_topic_sequences row yet). */
export const EMPTY_TOPIC_EPOCH = 'e0';

export interface TopicWindow {
  topic: string;
  topicClass: TopicClass;
  /** H: highest committed seq (0 when none). */
  head: number;
  /** F: lowest retained seq (H + 1 when nothing is retained). */
  oldest: number;
  epoch: string;
}

export async function readTopicWindows(pool: Pool, topics: string[]): Promise<Map<string, TopicWindow>> {
  const windows = new Map<string, TopicWindow>();
  for (const topic of topics) windows.set(topic, { topic, topicClass: topicClassOf(topic), head: 0, oldest: 1, epoch: EMPTY_TOPIC_EPOCH });
  if (topics.length === 0) return windows;
  const { rows } = await pool.query<{ topic: string; head_seq: string; oldest_available_seq: string; epoch: string }>(
    'SELECT topic, head_seq, oldest_available_seq, epoch FROM runtime.sync_topic_sequences WHERE topic = ANY($1)',
    [topics],
  );
  for (const row of rows) {
    windows.set(row.topic, { topic: row.topic, topicClass: topicClassOf(row.topic), head: Number(row.head_seq), oldest: Number(row.oldest_available_seq), epoch: row.epoch });
  }
  return windows;
}

export async function readTopicWindow(pool: Pool, topic: string): Promise<TopicWindow> {
  return (await readTopicWindows(pool, [topic])).get(topic)!;
}

interface JournalRow {
  seq: string;
  epoch: string;
  doc_key: string;
  doc_version: string;
  event_type: string;
  payload: string;
  payload_hash: string;
  published_at: Date;
}

/** One journal update with its JSON text, built once and reused by every subscriber. */
export interface JournalUpdate {
  seq: number;
  json: string;
}

const SELECT_PAGE = `SELECT seq, epoch, doc_key, doc_version, event_type, payload::text AS payload, payload_hash, published_at
  FROM runtime.sync_stream_events WHERE topic = $1 AND seq > $2 ORDER BY seq LIMIT $3`;

/**
 * Reads up to `limit` updates after `afterSeq`, in seq order (keyset pagination on
 * the primary key, so a replay never holds more than one page in memory).
 */
export async function readJournalPage(pool: Pool, topic: string, afterSeq: number, limit: number): Promise<JournalUpdate[]> {
  const { rows } = await pool.query<JournalRow>({ name: 'khala-journal-page', text: SELECT_PAGE, values: [topic, afterSeq, limit] });
  return rows.map((row) => {
    const seq = Number(row.seq);
    // payload is kept as the stored JSON text: no parse/serialize round trip per update.
    const json = `{"topic":${JSON.stringify(topic)},"seq":${seq},"epoch":${JSON.stringify(row.epoch)},"doc_key":${JSON.stringify(row.doc_key)},"doc_version":${Number(row.doc_version)},"event_type":${JSON.stringify(row.event_type)},"payload":${row.payload},"payload_hash":"${row.payload_hash}","published_at":"${row.published_at.toISOString()}"}`;
    return { seq, json };
  });
}

export function parseUpdates(updates: JournalUpdate[]): KhalaUpdate[] {
  return updates.map((u) => JSON.parse(u.json) as KhalaUpdate);
}

export type StaleReason = StaleCursorDetails['reason_codes'][number];

/** K6: the stale reasons of cursor k, in contract order (floor first); the budget applies to WS resumes only. */
export function staleReasons(window: TopicWindow, cursor: number, budget: number | undefined): StaleReason[] {
  const reasons: StaleReason[] = [];
  if (cursor + 1 < window.oldest) reasons.push('retention_floor_breach');
  if (budget !== undefined && window.head - cursor > budget) reasons.push('replay_budget_exceeded');
  return reasons;
}

/** The run summary projection as a K6 snapshot, for run_events topics. */
export async function readRunSnapshot(pool: Pool, topic: string): Promise<KhalaSnapshot | undefined> {
  const runId = /^run:([^:]+):events$/.exec(topic)?.[1];
  if (!runId) return undefined;
  const { rows } = await pool.query<{ doc_key: string; as_of_seq: string; summary: Record<string, unknown> }>(
    'SELECT doc_key, as_of_seq, summary FROM runtime.sync_run_summaries WHERE run_id = $1',
    [runId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { schema: 'openagents.sync.snapshot.v1', doc_key: row.doc_key, as_of_seq: Number(row.as_of_seq), payload: row.summary };
}

export async function staleCursorDetails(
  pool: Pool,
  window: TopicWindow,
  cursor: number,
  limits: TopicClassLimits,
  reasons: StaleReason[],
): Promise<StaleCursorDetails> {
  const snapshot = window.topicClass === 'run_events' && !reasons.includes('epoch_mismatch') ? await readRunSnapshot(pool, window.topic) : undefined;
  return {
    topic: window.topic,
    requested_seq: cursor,
    oldest_available_seq: window.oldest,
    head_seq: window.head,
    qos_tier: QOS_TIER[window.topicClass],
    replay_budget_events: limits.replayBudgetEvents,
    reason_codes: reasons,
    recovery: 'reset_local_watermark_and_replay_bootstrap',
    epoch: window.epoch,
    ...(snapshot ? { snapshot } : {}),
  } as StaleCursorDetails;
}
