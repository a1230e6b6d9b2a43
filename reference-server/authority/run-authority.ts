/**
 * Authority writes for runs (SPEC §2.1 "Runs", §3.2). Each accepted event commits in
 * one transaction with its seq allocation: the run event, the topic seq, the journal
 * row, the run summary projection and its checkpoint, and a NOTIFY for live
 * subscribers on every instance.
 *
 * @see contracts/KHALA_ORDERING.md#k1 — the run row lock serializes writers of one
 * run, so seqs are allocated in commit order and a rolled-back write leaves no hole.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { components } from '../../contracts/generated/runtime-api.ts';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import { withTransaction } from '../db/transaction.ts';
import { ApiError } from '../http/api-error.ts';
import { KHALA_NOTIFY_CHANNEL, runDocKey, runTopic, topicClassOf } from '../khala/topics.ts';
import type { PublishRateLimiter } from '../khala/publish-rate-limiter.ts';
import { canonicalJson, payloadHash } from '../../contracts/payload-hash.ts';

type Run = components['schemas']['Run'];
type RunEvent = components['schemas']['RunEvent'];
type RunStatus = components['schemas']['RunStatus'];
type AppendRunEventRequest = components['schemas']['AppendRunEventRequest'];
type ShadowWriteAccepted = components['schemas']['ShadowWriteAccepted'];

export const CANCEL_EVENT_TYPE = 'run.cancel_requested';
/** Reserved idempotency key of the cancel event; client keys cannot collide because cancel checks status first. */
const CANCEL_IDEMPOTENCY_KEY = 'runtime:cancel';
const TERMINAL: ReadonlySet<RunStatus> = new Set(['canceled', 'completed', 'failed']);
/** Event types that move a run to a terminal status. */
const TERMINAL_EVENT_STATUS: Record<string, RunStatus> = { 'run.completed': 'completed', 'run.failed': 'failed' };
export const RUN_SUMMARY_PROJECTION = 'run_summary';

interface RunRow {
  id: string;
  thread_id: string | null;
  owner: string;
  status: RunStatus;
  latest_seq: string;
  created_at: Date;
  updated_at: Date;
}

interface EventRow {
  run_id: string;
  seq: string;
  event_type: string;
  request_hash: string;
  payload: Record<string, unknown>;
  payload_hash: string;
  created_at: Date;
}

const RUN_COLUMNS = 'id, thread_id, owner, status, latest_seq, created_at, updated_at';

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    thread_id: row.thread_id,
    owner: row.owner,
    status: row.status,
    latest_seq: Number(row.latest_seq),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function toEvent(row: EventRow): RunEvent {
  return {
    run_id: row.run_id,
    seq: Number(row.seq),
    event_type: row.event_type,
    payload: row.payload,
    payload_hash: row.payload_hash,
    created_at: row.created_at.toISOString(),
  };
}

export function newTopicEpoch(): string {
  return `e${randomBytes(6).toString('hex')}`;
}

export interface AppendResult {
  event: RunEvent;
  idempotentReplay: boolean;
}

export interface RunAuthorityOptions {
  /** Called after each commit that appended an event (same-instance live delivery). */
  onCommitted?: (topic: string, seq: number) => void;
  rateLimiter?: PublishRateLimiter;
}

export class RunAuthority {
  constructor(
    private readonly pool: Pool,
    private readonly config: RuntimeConfig,
    private readonly options: RunAuthorityOptions = {},
  ) {}

  private limitPublishRate(topic: string): void {
    const limiter = this.options.rateLimiter;
    if (!limiter) return;
    const rate = this.config.khala.classes[topicClassOf(topic)].publishRatePerSecond;
    const verdict = limiter.take(topic, rate);
    if (!verdict.allowed) {
      throw new ApiError('rate_limited', `topic ${topic} accepts at most ${rate} events per second`, { topic, publish_rate_per_second: rate, retry_after_seconds: verdict.retryAfterSeconds }, { 'retry-after': String(verdict.retryAfterSeconds) });
    }
  }

  async createRun(owner: string, request: { thread_id?: string; metadata?: Record<string, unknown> }): Promise<Run> {
    const id = `run_${randomUUID().replaceAll('-', '')}`;
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<RunRow>(
        `INSERT INTO runtime.runs (id, thread_id, owner, metadata) VALUES ($1, $2, $3, $4) RETURNING ${RUN_COLUMNS}`,
        [id, request.thread_id ?? null, owner, request.metadata ?? {}],
      );
      await client.query(
        `INSERT INTO runtime.sync_topic_sequences (topic, topic_class, epoch) VALUES ($1, 'run_events', $2)`,
        [runTopic(id), newTopicEpoch()],
      );
      return toRun(rows[0]!);
    });
  }

  async getRun(runId: string): Promise<Run> {
    const { rows } = await this.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runtime.runs WHERE id = $1`, [runId]);
    if (!rows[0]) throw new ApiError('not_found', `run ${runId} not found`, { run_id: runId });
    return toRun(rows[0]);
  }

  /** Appends one event; an idempotent replay returns the stored event and allocates nothing. */
  async appendEvent(runId: string, request: AppendRunEventRequest): Promise<AppendResult> {
    const payloadText = canonicalJson(request.payload);
    const limit = this.config.khala.classes.run_events.maxPayloadBytes;
    const size = Buffer.byteLength(payloadText, 'utf8');
    if (size > limit) {
      throw new ApiError('payload_too_large', `payload is ${size} bytes; topic class run_events allows ${limit}`, {
        size_bytes: size,
        max_payload_bytes: limit,
        topic_class: 'run_events',
      });
    }
    const requestHash = payloadHash({ event_type: request.event_type, payload: request.payload });
    this.limitPublishRate(runTopic(runId));
    const result = await withTransaction(this.pool, async (client) => {
      const run = await lockRun(client, runId);
      const existing = await client.query<EventRow>(
        `SELECT run_id, seq, event_type, request_hash, payload, payload_hash, created_at
           FROM runtime.run_events WHERE run_id = $1 AND idempotency_key = $2`,
        [runId, request.idempotency_key],
      );
      const stored = existing.rows[0];
      if (stored) {
        if (stored.request_hash !== requestHash) {
          throw new ApiError('conflict', `idempotency_key ${request.idempotency_key} was used with a different body`, {
            reason_code: 'idempotency_key_reused',
            run_id: runId,
            seq: Number(stored.seq),
          });
        }
        return { event: toEvent(stored), idempotentReplay: true };
      }
      if (TERMINAL.has(run.status)) {
        throw new ApiError('conflict', `run ${runId} is ${run.status} and accepts no new events`, {
          reason_code: 'run_terminal',
          run_id: runId,
          status: run.status,
        });
      }
      const nextStatus = TERMINAL_EVENT_STATUS[request.event_type] ?? 'running';
      const event = await appendEventLocked(client, run, request, requestHash, nextStatus, this.config);
      return { event, idempotentReplay: false };
    });
    if (!result.idempotentReplay) this.options.onCommitted?.(runTopic(runId), result.event.seq);
    return result;
  }

  /** First cancel appends run.cancel_requested; later cancels are idempotent replays. */
  async cancelRun(runId: string, reason?: string): Promise<{ run: Run; idempotentReplay: boolean }> {
    const result = await withTransaction(this.pool, async (client) => {
      const run = await lockRun(client, runId);
      if (run.status === 'canceled') return { run: toRun(run), idempotentReplay: true };
      if (TERMINAL.has(run.status)) {
        throw new ApiError('conflict', `run ${runId} is already ${run.status}`, { reason_code: 'run_terminal', run_id: runId, status: run.status });
      }
      const payload = reason === undefined ? {} : { reason };
      const request = { event_type: CANCEL_EVENT_TYPE, idempotency_key: CANCEL_IDEMPOTENCY_KEY, payload };
      await appendEventLocked(client, run, request, payloadHash({ event_type: CANCEL_EVENT_TYPE, payload }), 'canceled', this.config);
      const { rows } = await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runtime.runs WHERE id = $1`, [runId]);
      return { run: toRun(rows[0]!), idempotentReplay: false };
    });
    if (!result.idempotentReplay) this.options.onCommitted?.(runTopic(runId), result.run.latest_seq);
    return result;
  }

  /** shadow_only: validate, record, publish nothing (SPEC §3.2). */
  async recordShadowWrite(
    operation: ShadowWriteAccepted['operation'],
    runId: string | null,
    request: unknown,
  ): Promise<ShadowWriteAccepted> {
    const shadowWriteId = `shw_${randomUUID().replaceAll('-', '')}`;
    const hash = payloadHash(request ?? {});
    await this.pool.query(
      `INSERT INTO runtime.shadow_writes (shadow_write_id, operation, run_id, request, payload_hash) VALUES ($1, $2, $3, $4, $5)`,
      [shadowWriteId, operation, runId, JSON.stringify(request ?? {}), hash],
    );
    return { status: 'shadow_recorded', authority_write_mode: 'shadow_only', operation, shadow_write_id: shadowWriteId, payload_hash: hash };
  }
}

async function lockRun(client: PoolClient, runId: string): Promise<RunRow> {
  const { rows } = await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runtime.runs WHERE id = $1 FOR UPDATE`, [runId]);
  if (!rows[0]) throw new ApiError('not_found', `run ${runId} not found`, { run_id: runId });
  return rows[0];
}

/** The single-transaction projection write of SPEC §3.2; the caller holds the run row lock. */
async function appendEventLocked(
  client: PoolClient,
  run: RunRow,
  request: AppendRunEventRequest,
  requestHash: string,
  nextStatus: RunStatus,
  config: RuntimeConfig,
): Promise<RunEvent> {
  const topic = runTopic(run.id);
  const hash = payloadHash(request.payload);
  const allocated = await client.query<{ seq: string; epoch: string }>(
    `UPDATE runtime.sync_topic_sequences SET head_seq = head_seq + 1, updated_at = now()
      WHERE topic = $1 RETURNING head_seq AS seq, epoch, oldest_available_seq AS oldest`,
    [topic],
  );
  let seqRow: { seq: string; epoch: string; oldest?: string } | undefined = allocated.rows[0];
  if (!seqRow) {
    // A run created before its topic row existed (or by another implementation): start the topic at 1.
    const created = await client.query<{ seq: string; epoch: string }>(
      `INSERT INTO runtime.sync_topic_sequences (topic, topic_class, head_seq, epoch) VALUES ($1, $2, 1, $3)
       RETURNING head_seq AS seq, epoch`,
      [topic, topicClassOf(topic), newTopicEpoch()],
    );
    seqRow = created.rows[0]!;
  }
  const seq = Number(seqRow.seq);
  const payloadJson = JSON.stringify(request.payload);
  const { rows } = await client.query<EventRow>(
    `INSERT INTO runtime.run_events (run_id, seq, event_type, idempotency_key, request_hash, payload, payload_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     RETURNING run_id, seq, event_type, request_hash, payload, payload_hash, created_at`,
    [run.id, seq, request.event_type, request.idempotency_key, requestHash, payloadJson, hash],
  );
  const inserted = rows[0]!;
  await client.query(
    `INSERT INTO runtime.sync_stream_events (topic, seq, epoch, doc_key, doc_version, event_type, payload, payload_hash, published_at)
     VALUES ($1, $2, $3, $4, $2, $5, $6, $7, $8)`,
    [topic, seq, seqRow.epoch, runDocKey(run.id), request.event_type, payloadJson, hash, inserted.created_at],
  );
  await pruneTopicTail(client, topic, seq, Number(seqRow.oldest ?? 1), config.khala.classes.run_events.retentionEvents);
  await client.query(`UPDATE runtime.runs SET latest_seq = $2, status = $3, updated_at = now() WHERE id = $1`, [run.id, seq, nextStatus]);
  await applyRunSummaryProjection(client, run.id, topic, seq, { run_id: run.id, status: nextStatus, latest_seq: seq, last_event_type: request.event_type });
  await client.query('SELECT pg_notify($1, $2)', [KHALA_NOTIFY_CHANNEL, `${topic}\t${seq}`]);
  return toEvent(inserted);
}

/**
 * Retention (SPEC §3.3): keep the last `retention` journal rows of the topic; F moves
 * to head − retention + 1 in the same transaction, under the topic row lock.
 */
async function pruneTopicTail(client: PoolClient, topic: string, head: number, oldest: number, retention: number): Promise<void> {
  const floor = head - retention + 1;
  if (floor <= oldest) return;
  await client.query('DELETE FROM runtime.sync_stream_events WHERE topic = $1 AND seq < $2', [topic, floor]);
  await client.query('UPDATE runtime.sync_topic_sequences SET oldest_available_seq = $2 WHERE topic = $1', [topic, floor]);
}

/** Idempotent projection: a seq at or below the checkpoint changes nothing. */
export async function applyRunSummaryProjection(
  client: PoolClient,
  runId: string,
  topic: string,
  seq: number,
  summary: Record<string, unknown>,
): Promise<boolean> {
  const advanced = await client.query(
    `INSERT INTO runtime.khala_projection_checkpoints (projection, topic, last_seq) VALUES ($1, $2, $3)
     ON CONFLICT (projection, topic) DO UPDATE SET last_seq = EXCLUDED.last_seq, updated_at = now()
       WHERE runtime.khala_projection_checkpoints.last_seq < EXCLUDED.last_seq`,
    [RUN_SUMMARY_PROJECTION, topic, seq],
  );
  if (advanced.rowCount === 0) return false;
  await client.query(
    `INSERT INTO runtime.sync_run_summaries (run_id, doc_key, as_of_seq, summary) VALUES ($1, $2, $3, $4)
     ON CONFLICT (run_id) DO UPDATE SET as_of_seq = EXCLUDED.as_of_seq, summary = EXCLUDED.summary, updated_at = now()`,
    [runId, runDocKey(runId), seq, JSON.stringify(summary)],
  );
  return true;
}
