/**
 * The HTTP surfaces of the Khala journal (SPEC §2.1): the topic poll (sync-token
 * auth), the run SSE stream, and fan-out metrics. They read the same journal as the
 * WebSocket, so the three surfaces expose one ledger (K8); HTTP surfaces apply only
 * the retention floor, never the WS replay budget (K6).
 */
import type { FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import type { KhalaUpdate, SyncTokenClaims } from '../../contracts/generated/khala-frames.ts';
import type { components } from '../../contracts/generated/runtime-api.ts';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import { ApiError } from '../http/api-error.ts';
import type { OperationHandler, SecurityCheck } from '../http/route-table.ts';
import type { KhalaHub } from '../khala/khala-hub.ts';
import type { KhalaMetrics } from '../khala/khala-metrics.ts';
import { readSyncToken, type TokenRevocations, verifySyncToken } from '../khala/sync-token.ts';
import { checkTopicAccess } from '../khala/topic-access.ts';
import { type JournalUpdate, parseUpdates, readJournalPage, readTopicWindow, readTopicWindows, staleCursorDetails, staleReasons, type TopicWindow } from '../khala/topic-journal.ts';
import { QOS_TIER, runTopic } from '../khala/topics.ts';

type TopicClass = components['schemas']['TopicClass'];

export interface KhalaRouteDeps {
  pool: Pool;
  config: RuntimeConfig;
  hub: KhalaHub;
  metrics: KhalaMetrics;
  revocations: TokenRevocations;
  activeConnections: () => number;
}

const claimsByRequest = new WeakMap<FastifyRequest, SyncTokenClaims>();

/** The `syncToken` security scheme: a valid Khala sync token, its claims kept for the handler. */
/**
 * The SSE frame of one journal update, built once per update object: live updates are
 * shared by every subscriber of a topic, so N SSE streams do not parse the JSON N times.
 */
const sseFrames = new WeakMap<JournalUpdate, string>();
function sseFrame(update: JournalUpdate): string {
  let frame = sseFrames.get(update);
  if (frame === undefined) {
    const { seq, event_type, payload, payload_hash } = JSON.parse(update.json) as KhalaUpdate;
    frame = `event: message\nid: ${seq}\ndata: ${JSON.stringify({ seq, event_type, payload, payload_hash })}\n\n`;
    sseFrames.set(update, frame);
  }
  return frame;
}

export function createSyncTokenCheck(config: RuntimeConfig, revocations: TokenRevocations): SecurityCheck {
  return async (request) => {
    const { token, reason } = readSyncToken(request.headers.authorization, undefined);
    if (!token) throw new ApiError('unauthorized', 'a sync token is required', { reason_code: reason });
    const verification = await verifySyncToken(token, config.sync, revocations);
    if (!verification.ok) throw new ApiError('unauthorized', verification.message, { reason_code: verification.reason });
    claimsByRequest.set(request, verification.claims);
  };
}

async function staleError(deps: KhalaRouteDeps, window: TopicWindow, cursor: number): Promise<ApiError | undefined> {
  if (cursor > window.head) {
    return new ApiError('invalid_request', `cursor ${cursor} is ahead of head ${window.head}`, { reason_code: 'cursor_ahead_of_head', requested_seq: cursor, head_seq: window.head });
  }
  const reasons = staleReasons(window, cursor, undefined);
  if (reasons.length === 0) return undefined;
  deps.metrics.stale(window.topic, reasons);
  const details = await staleCursorDetails(deps.pool, window, cursor, deps.config.khala.classes[window.topicClass], reasons);
  return new ApiError('stale_cursor', `cursor ${cursor} is below the retention floor ${window.oldest}`, details as unknown as Record<string, unknown>);
}

export function khalaRoutes(deps: KhalaRouteDeps): Record<string, OperationHandler> {
  const { pool, config, hub, metrics } = deps;
  return {
    pollKhalaTopicMessages: async ({ request, params, query }) => {
      const topic = params.topic!;
      const access = await checkTopicAccess(pool, claimsByRequest.get(request)!, topic);
      if (!access.ok) throw new ApiError('forbidden', access.message, { reason_code: access.reason });
      const afterSeq = (query.after_seq as number | undefined) ?? 0;
      const limit = (query.limit as number | undefined) ?? 100;
      const window = await readTopicWindow(pool, topic);
      const error = await staleError(deps, window, afterSeq);
      if (error) throw error;
      const page = await readJournalPage(pool, topic, afterSeq, limit);
      const nextCursor = page.length > 0 ? page[page.length - 1]!.seq : afterSeq;
      const head = Math.max(window.head, nextCursor);
      metrics.delivered(topic, page.length);
      return {
        status: 200,
        body: {
          topic,
          messages: parseUpdates(page),
          oldest_available_seq: window.oldest,
          head_seq: head,
          next_cursor: nextCursor,
          replay_complete: nextCursor >= head,
          limit_applied: limit,
        },
      };
    },

    streamRunEvents: async ({ request, reply, params, query, headers }) => {
      const runId = params.run_id!;
      const queryCursor = query.cursor as number | undefined;
      const lastEventId = headers['last-event-id'] as string | undefined;
      if (lastEventId !== undefined && !/^\d+$/.test(lastEventId)) {
        throw new ApiError('invalid_request', 'Last-Event-ID must be a seq', { reason_code: 'invalid_last_event_id' });
      }
      if (queryCursor !== undefined && lastEventId !== undefined && Number(lastEventId) !== queryCursor) {
        throw new ApiError('invalid_request', `cursor ${queryCursor} and Last-Event-ID ${lastEventId} disagree`, { reason_code: 'cursor_conflict' });
      }
      const cursor = queryCursor ?? (lastEventId !== undefined ? Number(lastEventId) : 0);
      const { rowCount } = await pool.query('SELECT 1 FROM runtime.runs WHERE id = $1', [runId]);
      if (!rowCount) throw new ApiError('not_found', `run ${runId} not found`, { run_id: runId });
      const topic = runTopic(runId);
      const window = await readTopicWindow(pool, topic);
      const error = await staleError(deps, window, cursor);
      if (error) throw error;

      const tailMs = (query.tail_ms as number | undefined) ?? 0;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-request-id': request.id });
      raw.flushHeaders();
      let ended = false;
      let tailTimer: NodeJS.Timeout | undefined;
      const end = () => {
        if (ended) return;
        ended = true;
        if (tailTimer) clearTimeout(tailTimer);
        hub.unsubscribe(subscription);
        raw.end();
      };
      const subscription = hub.subscribe(
        {
          deliver: (_topic, updates, replayComplete) => {
            if (ended || raw.destroyed) return false;
            let text = '';
            for (const update of updates) text += sseFrame(update);
            if (text) raw.write(text);
            // Without tail_ms the stream closes once it has caught up to the head it started with.
            if (replayComplete && tailMs === 0) setImmediate(end);
            return true;
          },
        },
        topic,
        cursor,
        window.head,
      );
      raw.on('close', end);
      if (tailMs > 0) tailTimer = setTimeout(end, tailMs);
      return { status: 200, handled: true };
    },

    getKhalaFanoutMetrics: async () => {
      const tracked = metrics.trackedTopics();
      const windows = await readTopicWindows(pool, [...tracked.keys()]);
      const topics = [...tracked.entries()].map(([topic, counters]) => {
        const window = windows.get(topic)!;
        return {
          topic,
          topic_class: window.topicClass,
          qos_tier: QOS_TIER[window.topicClass],
          oldest_available_seq: window.oldest,
          head_seq: window.head,
          replay_budget_events: config.khala.classes[window.topicClass].replayBudgetEvents,
          counters: { ...counters },
        };
      });
      const classes = (Object.keys(config.khala.classes) as TopicClass[]).map((topicClass) => {
        const limits = config.khala.classes[topicClass];
        return {
          topic_class: topicClass,
          qos_tier: QOS_TIER[topicClass],
          replay_budget_events: limits.replayBudgetEvents,
          retention_events: limits.retentionEvents,
          max_payload_bytes: limits.maxPayloadBytes,
          publish_rate_per_second: limits.publishRatePerSecond,
        };
      });
      return {
        status: 200,
        body: {
          generated_at: new Date().toISOString(),
          topics,
          classes,
          delivery: {
            active_connections: deps.activeConnections(),
            active_subscriptions: hub.activeSubscriptions,
            deliveries_total: metrics.totals.deliveries,
            replays_total: metrics.totals.replays,
            stale_cursors_total: metrics.totals.stale_cursors,
            evictions_total: metrics.totals.evictions,
          },
        },
      };
    },
  };
}
