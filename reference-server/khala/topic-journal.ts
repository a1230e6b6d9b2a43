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

/** One journal update with its JSON text, built once and reused by every subscriber. */
export interface JournalUpdate {
  seq: number;
  json: string;
}

/**
 * Columns come back as the server's text, untouched (rowMode array, no type parsers):
 * seq and doc_version are spliced into the JSON as they are and payload is the stored
 * JSON text. published_at comes as epoch seconds (float8), formatted here once per
 * distinct value (timestamp output is the costliest output function of the row).
 * Columns that mostly repeat come back NULL when they equal a hint ($4 epoch, $5
 * doc_key, $6 event_type: the previous read's last row; doc_version: the row's seq),
 * which saves their output and decoding on every row; the columns are NOT NULL, so
 * NULL can only mean "equal to the hint".
 */
const SELECT_PAGE = `SELECT seq, NULLIF(epoch, $4), NULLIF(doc_key, $5), NULLIF(doc_version, seq), NULLIF(event_type, $6),
       payload::text, payload_hash, date_part('epoch', published_at)
  FROM runtime.sync_stream_events WHERE topic = $1 AND seq > $2 ORDER BY seq LIMIT $3`;
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/** Epoch seconds with microseconds (float8 text) → RFC 3339 UTC with milliseconds, truncated as Date truncates. */
export function epochSecondsToIso(text: string): string {
  const micros = Math.round(Number(text) * 1e6);
  return new Date(Math.floor(micros / 1000)).toISOString();
}

interface ColumnHints {
  epoch: string;
  docKey: string;
  eventType: string;
}
/** Last row's repeating columns per topic (bounded), the hints of the next read of that topic. */
const hintsByTopic = new Map<string, ColumnHints>();
const HINT_TOPICS = 4096;

/**
 * Reads up to `limit` updates after `afterSeq`, in seq order (keyset pagination on
 * the primary key, so a replay never holds more than one page in memory). The JSON
 * of each update is assembled once from the row's text; strings that repeat from row
 * to row (epoch, doc_key, event_type, published_at) are escaped once.
 */
export async function readJournalPage(pool: Pool, topic: string, afterSeq: number, limit: number): Promise<JournalUpdate[]> {
  const hints = hintsByTopic.get(topic) ?? { epoch: '', docKey: /^run:([^:]+):events$/.test(topic) ? `runtime/run_summary:${topic.slice(4, -7)}` : '', eventType: '' };
  const { rows } = await pool.query<(string | null)[]>({
    name: 'khala-journal-page-hinted',
    text: SELECT_PAGE,
    values: [topic, afterSeq, limit, hints.epoch, hints.docKey, hints.eventType],
    rowMode: 'array',
    types: RAW_TEXT,
  });
  const topicJson = JSON.stringify(topic);
  let epoch: string | undefined;
  let epochJson = '';
  let docKey: string | undefined;
  let docKeyJson = '';
  let eventType: string | undefined;
  let eventTypeJson = '';
  let published: string | undefined;
  let publishedIso = '';
  const updates = new Array<JournalUpdate>(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i]!;
    const rowEpoch = row[1] ?? hints.epoch;
    if (rowEpoch !== epoch) {
      epoch = rowEpoch;
      epochJson = JSON.stringify(epoch);
    }
    const rowDocKey = row[2] ?? hints.docKey;
    if (rowDocKey !== docKey) {
      docKey = rowDocKey;
      docKeyJson = JSON.stringify(docKey);
    }
    const rowEventType = row[4] ?? hints.eventType;
    if (rowEventType !== eventType) {
      eventType = rowEventType;
      eventTypeJson = JSON.stringify(eventType);
    }
    if (row[7] !== published) {
      published = row[7]!;
      publishedIso = epochSecondsToIso(published);
    }
    updates[i] = {
      seq: Number(row[0]),
      json: updateJson(topicJson, row[0]!, epochJson, docKeyJson, row[3] ?? row[0]!, eventTypeJson, row[5]!, row[6]!, publishedIso),
    };
  }
  if (rows.length > 0) {
    hintsByTopic.delete(topic);
    hintsByTopic.set(topic, { epoch: epoch!, docKey: docKey!, eventType: eventType! });
    if (hintsByTopic.size > HINT_TOPICS) hintsByTopic.delete(hintsByTopic.keys().next().value!);
  }
  return updates;
}

/** Recent committed updates per topic, per database (keyed by pool): the live path's read-through cache. */
const recentByPool = new WeakMap<object, Map<string, JournalUpdate[]>>();
const RECENT_PER_TOPIC = 1024;
const RECENT_TOPICS = 1024;

/**
 * Records updates this process has just committed (in seq order, contiguous), so a
 * live feed on this instance can deliver them without reading them back (K9 delivery
 * on other instances still goes through NOTIFY and the journal). Only what is known
 * committed goes in; a batch that does not continue the cached tail replaces it.
 */
export function rememberCommittedUpdates(pool: Pool, topic: string, updates: JournalUpdate[]): void {
  if (updates.length === 0) return;
  let topics = recentByPool.get(pool);
  if (!topics) {
    topics = new Map();
    recentByPool.set(pool, topics);
  }
  const cached = topics.get(topic);
  let next: JournalUpdate[];
  if (cached && cached.length > 0 && cached[cached.length - 1]!.seq + 1 === updates[0]!.seq) {
    for (const update of updates) cached.push(update);
    // Trimmed in halves, not on every append: amortized O(1) per update.
    next = cached.length > 2 * RECENT_PER_TOPIC ? cached.slice(cached.length - RECENT_PER_TOPIC) : cached;
  } else {
    next = updates.slice(-RECENT_PER_TOPIC);
  }
  topics.delete(topic);
  topics.set(topic, next);
  if (topics.size > RECENT_TOPICS) topics.delete(topics.keys().next().value!);
}

/** Up to `limit` cached updates right after `afterSeq` (empty when the cache does not hold seq afterSeq + 1). */
export function recentCommittedUpdates(pool: Pool, topic: string, afterSeq: number, limit: number): JournalUpdate[] {
  const cached = recentByPool.get(pool)?.get(topic);
  if (!cached || cached.length === 0) return [];
  const index = afterSeq + 1 - cached[0]!.seq;
  if (index < 0 || index >= cached.length) return [];
  return cached.slice(index, index + limit);
}

/**
 * The one layout of a KhalaUpdate's JSON, from already-encoded parts (topic, epoch,
 * doc_key and event_type as JSON strings, payload as JSON text): replay rows and live
 * updates from memory must be byte-identical.
 */
function updateJson(topicJson: string, seq: number | string, epochJson: string, docKeyJson: string, docVersion: number | string, eventTypeJson: string, payloadJson: string, payloadHash: string, publishedIso: string): string {
  return `{"topic":${topicJson},"seq":${seq},"epoch":${epochJson},"doc_key":${docKeyJson},"doc_version":${docVersion},"event_type":${eventTypeJson},"payload":${payloadJson},"payload_hash":"${payloadHash}","published_at":"${publishedIso}"}`;
}

/** The JSON of one update just written (doc_version = seq), in the layout replay reads. */
export function journalUpdateJson(topic: string, seq: number, epoch: string, docKey: string, eventType: string, payloadJson: string, payloadHash: string, publishedIso: string): string {
  return updateJson(JSON.stringify(topic), seq, JSON.stringify(epoch), JSON.stringify(docKey), seq, JSON.stringify(eventType), payloadJson, payloadHash, publishedIso);
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
