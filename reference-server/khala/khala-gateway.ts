/**
 * The Khala WebSocket endpoint `GET /internal/v1/khala/ws` (SPEC §2.2): origin and
 * sync-token checks before the upgrade (denials are HTTP error envelopes), then the
 * frame protocol — subscribe / unsubscribe / ping in, subscribed / update_batch /
 * heartbeat / pong / error out — with per-topic authorization, K5–K7 cursor checks
 * and delivery through the KhalaHub.
 *
 * @see contracts/khala.asyncapi.yaml
 * @see contracts/KHALA_ORDERING.md
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ErrorFrame, KhalaErrorCode, SubscribedTopic, SubscribeFrame, SyncTokenClaims } from '../../contracts/generated/khala-frames.ts';
import { khalaFrameValidator } from '../../contracts/khala-frame-schemas.ts';
import { formatAjvErrors } from '../../contracts/openapi-operations.ts';
import { normalizeOrigin, type RuntimeConfig } from '../config/runtime-config.ts';
import { ERROR_STATUS, type ErrorCode, errorEnvelope } from '../http/api-error.ts';
import { redactUrl } from '../logger.ts';
import type { KhalaHub, RevocationNotice, Subscription, SubscriptionSink } from './khala-hub.ts';
import type { KhalaMetrics } from './khala-metrics.ts';
import { readSyncToken, type TokenRevocations, verifySyncToken } from './sync-token.ts';
import { checkTopicAccess } from './topic-access.ts';
import { readTopicWindows, staleCursorDetails, staleReasons } from './topic-journal.ts';
import { QOS_TIER } from './topics.ts';

export const KHALA_WS_PATH = '/internal/v1/khala/ws';
export const CLOSE_SESSION_REVOKED = 4001;
export const CLOSE_SLOW_CONSUMER = 4002;
export const CLOSE_SHUTDOWN = 1001;
/** A client that sends frames faster than they are answered stops being read (TCP backpressure) past this many. */
export const MAX_PENDING_FRAMES = 64;

export interface KhalaGatewayOptions {
  pool: Pool;
  config: RuntimeConfig;
  hub: KhalaHub;
  revocations: TokenRevocations;
  metrics: KhalaMetrics;
  logger: Logger;
}

interface Connection {
  id: string;
  ws: WebSocket;
  claims: SyncTokenClaims;
  subscriptions: Map<string, Subscription>;
  /** Frames are handled one at a time so answers keep the order of requests. */
  queue: Promise<void>;
  /** Frames received and not yet handled; reading pauses at MAX_PENDING_FRAMES (memory stays bounded under a flood). */
  pending: number;
  paused: boolean;
  heartbeat: NodeJS.Timeout;
  closed: boolean;
}

const validateSubscribe = () => khalaFrameValidator('SubscribeFrame');
const validateUnsubscribe = () => khalaFrameValidator('UnsubscribeFrame');
const validatePing = () => khalaFrameValidator('PingFrame');

export class KhalaGateway {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly socketsPerPrincipal = new Map<string, number>();

  constructor(private readonly options: KhalaGatewayOptions) {
    // Frames up to 4× the limit are read and answered with payload_too_large; beyond that ws closes with 1009.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.config.khala.maxFrameBytes * 4, perMessageDeflate: false });
    options.hub.onRevocation((notice) => this.evictRevoked(notice));
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleUpgrade(request, socket, head).catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'khala upgrade failed');
        denyUpgrade(socket, 'internal_error', 'internal error', {});
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Closes every socket with 1001 (server shutdown). */
  closeAll(): void {
    for (const connection of [...this.connections]) this.close(connection, CLOSE_SHUTDOWN, 'server shutting down');
    this.wss.close();
  }

  /** Evicts live sockets of revoked sessions or devices; returns how many were closed. */
  evictRevoked(notice: RevocationNotice): number {
    let evicted = 0;
    for (const connection of [...this.connections]) {
      const { sid, did } = connection.claims;
      if ((sid && notice.session_ids.includes(sid)) || (did && notice.device_ids.includes(did))) {
        this.sendError(connection, { type: 'error', code: 'session_revoked', message: 'the session or device was revoked', details: { reason_code: 'session_revoked' } });
        this.close(connection, CLOSE_SESSION_REVOKED, 'session revoked');
        this.options.metrics.evicted('session_revoked');
        evicted += 1;
      }
    }
    return evicted;
  }

  private async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const log = this.options.logger.child({ request_id: randomUUID(), url: redactUrl(request.url ?? '') });
    if (url.pathname !== KHALA_WS_PATH) return denyUpgrade(socket, 'not_found', `no WebSocket endpoint at ${url.pathname}`, {});
    const { config } = this.options;
    const origin = request.headers.origin;
    if (config.khala.enforceOrigin && origin !== undefined && !config.khala.allowedOrigins.has(normalizeOrigin(origin))) {
      log.info({ reason_code: 'origin_not_allowed' }, 'khala upgrade denied');
      return denyUpgrade(socket, 'forbidden', 'origin not allowed', { reason_code: 'origin_not_allowed' });
    }
    const { token, reason } = readSyncToken(request.headers.authorization, url.searchParams.get('access_token'));
    if (!token) {
      log.info({ reason_code: reason }, 'khala upgrade denied');
      return denyUpgrade(socket, 'unauthorized', 'a sync token is required', { reason_code: reason });
    }
    const verification = await verifySyncToken(token, config.sync, this.options.revocations);
    if (!verification.ok) {
      log.info({ reason_code: verification.reason }, 'khala upgrade denied');
      return denyUpgrade(socket, 'unauthorized', verification.message, { reason_code: verification.reason });
    }
    const principal = verification.claims.sub;
    if ((this.socketsPerPrincipal.get(principal) ?? 0) >= config.khala.maxSocketsPerPrincipal) {
      return denyUpgrade(socket, 'rate_limited', `at most ${config.khala.maxSocketsPerPrincipal} sockets per principal`, { reason_code: 'too_many_sockets' });
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws, verification.claims));
  }

  private onConnection(ws: WebSocket, claims: SyncTokenClaims): void {
    const connection: Connection = {
      id: randomUUID(),
      ws,
      claims,
      subscriptions: new Map(),
      queue: Promise.resolve(),
      pending: 0,
      paused: false,
      heartbeat: setInterval(() => this.sendHeartbeat(connection), this.options.config.khala.heartbeatMs),
      closed: false,
    };
    this.connections.add(connection);
    this.socketsPerPrincipal.set(claims.sub, (this.socketsPerPrincipal.get(claims.sub) ?? 0) + 1);
    this.options.metrics.connections.set(this.connections.size);
    ws.on('message', (data, isBinary) => {
      connection.pending += 1;
      if (connection.pending >= MAX_PENDING_FRAMES && !connection.paused) {
        connection.paused = true;
        ws.pause();
      }
      connection.queue = connection.queue
        .then(() => this.onFrame(connection, data as Buffer, isBinary))
        .catch((error: unknown) => {
          this.options.logger.error({ err: error, connection_id: connection.id }, 'khala frame handling failed');
          this.sendError(connection, { type: 'error', code: 'internal_error', message: 'internal error', details: {} });
        })
        .finally(() => {
          connection.pending -= 1;
          if (connection.paused && connection.pending <= MAX_PENDING_FRAMES / 2 && !connection.closed) {
            connection.paused = false;
            ws.resume();
          }
        });
    });
    ws.on('close', () => this.release(connection));
    ws.on('error', () => this.release(connection));
  }

  private release(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    clearInterval(connection.heartbeat);
    for (const sub of connection.subscriptions.values()) this.options.hub.unsubscribe(sub);
    connection.subscriptions.clear();
    this.connections.delete(connection);
    const left = (this.socketsPerPrincipal.get(connection.claims.sub) ?? 1) - 1;
    if (left <= 0) this.socketsPerPrincipal.delete(connection.claims.sub);
    else this.socketsPerPrincipal.set(connection.claims.sub, left);
    this.options.metrics.connections.set(this.connections.size);
  }

  private close(connection: Connection, code: number, reason: string): void {
    this.release(connection);
    try {
      connection.ws.close(code, reason);
    } catch {
      connection.ws.terminate();
    }
    // A peer that never answers the close handshake is cut off.
    setTimeout(() => connection.ws.terminate(), 2000).unref();
  }

  private sendRaw(connection: Connection, text: string): boolean {
    if (connection.closed || connection.ws.readyState !== connection.ws.OPEN) return false;
    if (connection.ws.bufferedAmount > this.options.config.khala.slowConsumerMaxBufferedBytes) {
      this.options.metrics.evicted('slow_consumer');
      const frame: ErrorFrame = { type: 'error', code: 'slow_consumer_evicted', message: 'the socket fell too far behind', details: { reason_code: 'send_buffer_exceeded', buffered_bytes: connection.ws.bufferedAmount } };
      connection.ws.send(JSON.stringify(frame));
      this.close(connection, CLOSE_SLOW_CONSUMER, 'slow consumer evicted');
      return false;
    }
    connection.ws.send(text);
    return true;
  }

  private send(connection: Connection, frame: object): boolean {
    return this.sendRaw(connection, JSON.stringify(frame));
  }

  private sendError(connection: Connection, frame: ErrorFrame): void {
    if (connection.ws.readyState === connection.ws.OPEN) connection.ws.send(JSON.stringify(frame));
  }

  private errorFrame(code: KhalaErrorCode, message: string, details: Record<string, unknown>, requestId?: unknown, topic?: string): ErrorFrame {
    return {
      type: 'error',
      ...(typeof requestId === 'string' && requestId.length > 0 && requestId.length <= 128 ? { request_id: requestId } : {}),
      code,
      message,
      ...(topic ? { topic } : {}),
      details,
    };
  }

  private sendHeartbeat(connection: Connection): void {
    const watermarks: Record<string, number> = {};
    for (const [topic, sub] of connection.subscriptions) watermarks[topic] = Math.max(this.options.hub.knownHead(topic) ?? 0, sub.lastSentSeq);
    this.send(connection, { type: 'heartbeat', watermarks });
  }

  private async onFrame(connection: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    if (connection.closed) return;
    if (data.length > this.options.config.khala.maxFrameBytes) {
      this.sendError(connection, this.errorFrame('payload_too_large', `frame is ${data.length} bytes; the limit is ${this.options.config.khala.maxFrameBytes}`, { reason_code: 'frame_too_large', max_frame_bytes: this.options.config.khala.maxFrameBytes }));
      return;
    }
    let frame: unknown;
    try {
      if (isBinary) throw new Error('binary');
      frame = JSON.parse(data.toString('utf8'));
    } catch {
      this.sendError(connection, this.errorFrame('invalid_request', 'frames must be JSON text', { reason_code: 'malformed_json' }));
      return;
    }
    const type = frame && typeof frame === 'object' && !Array.isArray(frame) ? (frame as { type?: unknown }).type : undefined;
    const requestId = (frame as { request_id?: unknown } | null)?.request_id;
    switch (type) {
      case 'subscribe': {
        const validate = validateSubscribe();
        const resume = (frame as { resume_after?: Record<string, unknown>; topics?: unknown }).resume_after;
        const topics = (frame as { topics?: unknown }).topics;
        const valid = validate(frame);
        const strayResume = valid && resume ? Object.keys(resume).filter((t) => !(topics as string[]).includes(t)) : [];
        // PostgreSQL text cannot hold NUL: such a topic or epoch can never exist, and must not reach a query.
        const nul = valid && hasNulCharacter(frame as SubscribeFrame);
        if (!valid || strayResume.length > 0 || nul) {
          const violations = nul
            ? [{ path: '$', message: 'topics and epochs must not contain NUL characters' }]
            : strayResume.length > 0
              ? [{ path: '$.resume_after', message: `topics not subscribed: ${strayResume.join(', ')}` }]
              : formatAjvErrors(validate.errors);
          this.sendError(connection, this.errorFrame('bad_subscription', 'invalid subscribe frame', { reason_code: 'invalid_frame', violations }, requestId));
          return;
        }
        await this.subscribe(connection, frame as SubscribeFrame);
        return;
      }
      case 'unsubscribe': {
        const validate = validateUnsubscribe();
        if (!validate(frame)) {
          this.sendError(connection, this.errorFrame('invalid_request', 'invalid unsubscribe frame', { reason_code: 'invalid_frame', violations: formatAjvErrors(validate.errors) }, requestId));
          return;
        }
        for (const topic of (frame as { topics: string[] }).topics) {
          const sub = connection.subscriptions.get(topic);
          if (sub) this.options.hub.unsubscribe(sub);
          connection.subscriptions.delete(topic);
        }
        return;
      }
      case 'ping': {
        const validate = validatePing();
        if (!validate(frame)) {
          this.sendError(connection, this.errorFrame('invalid_request', 'invalid ping frame', { reason_code: 'invalid_frame', violations: formatAjvErrors(validate.errors) }, requestId));
          return;
        }
        this.send(connection, { type: 'pong', request_id: (frame as { request_id: string }).request_id });
        return;
      }
      default:
        this.sendError(connection, this.errorFrame('invalid_request', `unknown frame type ${JSON.stringify(type ?? null)}`, { reason_code: 'unknown_type' }, requestId));
    }
  }

  /** SPEC §2.2 / KHALA_ORDERING "Error precedence": scope, ownership, epoch (K7), ahead of head (K5), stale (K6). */
  private async subscribe(connection: Connection, frame: SubscribeFrame): Promise<void> {
    const { pool, config, hub, metrics } = this.options;
    const windows = await readTopicWindows(pool, frame.topics);
    const accepted: { topic: string; from: number; resume: boolean; head: number }[] = [];
    const errors: ErrorFrame[] = [];
    const newTopics = frame.topics.filter((t) => !connection.subscriptions.has(t));
    const room = config.khala.maxTopicsPerSocket - connection.subscriptions.size;
    for (const topic of frame.topics) {
      if (!connection.subscriptions.has(topic) && newTopics.indexOf(topic) >= room) {
        errors.push(this.errorFrame('bad_subscription', `at most ${config.khala.maxTopicsPerSocket} topics per socket`, { reason_code: 'topic_limit_exceeded' }, frame.request_id, topic));
        continue;
      }
      const access = await checkTopicAccess(pool, connection.claims, topic);
      if (!access.ok) {
        errors.push(this.errorFrame('forbidden_topic', access.message, { reason_code: access.reason }, frame.request_id, topic));
        continue;
      }
      const window = windows.get(topic)!;
      const limits = config.khala.classes[window.topicClass];
      const cursor = frame.resume_after?.[topic];
      if (cursor) {
        if (cursor.epoch !== undefined && cursor.epoch !== window.epoch) {
          metrics.stale(topic, ['epoch_mismatch']);
          errors.push(this.errorFrame('stale_cursor', `epoch ${cursor.epoch} is not the topic's epoch`, await staleCursorDetails(pool, window, cursor.seq, limits, ['epoch_mismatch']), frame.request_id, topic));
          continue;
        }
        if (cursor.seq > window.head) {
          errors.push(this.errorFrame('bad_subscription', `cursor ${cursor.seq} is ahead of head ${window.head}`, { reason_code: 'cursor_ahead_of_head', requested_seq: cursor.seq, head_seq: window.head }, frame.request_id, topic));
          continue;
        }
        const reasons = staleReasons(window, cursor.seq, limits.replayBudgetEvents);
        if (reasons.length > 0) {
          metrics.stale(topic, reasons);
          errors.push(this.errorFrame('stale_cursor', `cursor ${cursor.seq} is stale: ${reasons.join(', ')}`, await staleCursorDetails(pool, window, cursor.seq, limits, reasons), frame.request_id, topic));
          continue;
        }
        accepted.push({ topic, from: cursor.seq, resume: true, head: window.head });
      } else {
        accepted.push({ topic, from: window.head, resume: false, head: window.head });
      }
    }
    const topics: Record<string, SubscribedTopic> = {};
    for (const { topic } of accepted) {
      const window = windows.get(topic)!;
      topics[topic] = { head_seq: window.head, oldest_available_seq: window.oldest, epoch: window.epoch, qos_tier: QOS_TIER[window.topicClass] };
    }
    if (!this.send(connection, { type: 'subscribed', request_id: frame.request_id, subscription_id: `sub_${randomUUID()}`, heartbeat_ms: config.khala.heartbeatMs, topics })) return;
    for (const error of errors) this.sendError(connection, error);

    for (const entry of accepted) {
      const previous = connection.subscriptions.get(entry.topic);
      if (previous) hub.unsubscribe(previous);
      const sink = this.sinkFor(connection);
      if (entry.resume && entry.from === entry.head) {
        // K5: a resume at head gets exactly one empty batch, then live updates.
        if (!sink.deliver(entry.topic, [], true)) return;
        connection.subscriptions.set(entry.topic, hub.subscribe(sink, entry.topic, entry.head));
      } else if (entry.resume) {
        metrics.replayed(entry.topic);
        connection.subscriptions.set(entry.topic, hub.subscribe(sink, entry.topic, entry.from, entry.head));
      } else {
        connection.subscriptions.set(entry.topic, hub.subscribe(sink, entry.topic, entry.head));
      }
    }
  }

  private sinkFor(connection: Connection): SubscriptionSink {
    return {
      deliver: (topic, updates, replayComplete) => {
        const last = updates.length > 0 ? updates[updates.length - 1]!.seq : 0;
        const head = Math.max(this.options.hub.knownHead(topic) ?? 0, last);
        const text = `{"type":"update_batch","updates":[${updates.map((u) => u.json).join(',')}],"replay_complete":${replayComplete},"head_watermarks":{${JSON.stringify(topic)}:${head}}}`;
        return this.sendRaw(connection, text);
      },
    };
  }
}

function hasNulCharacter(frame: SubscribeFrame): boolean {
  const texts: string[] = [...frame.topics];
  for (const [topic, cursor] of Object.entries(frame.resume_after ?? {})) texts.push(topic, cursor.epoch ?? '');
  return texts.some((text) => text.includes('\u0000'));
}

/** Answers a denied upgrade with an HTTP error envelope and closes the socket. */
function denyUpgrade(socket: Duplex, code: ErrorCode | 'not_found', message: string, details: Record<string, unknown>): void {
  const status = ERROR_STATUS[code as ErrorCode] ?? 404;
  const body = JSON.stringify(errorEnvelope(code as ErrorCode, message, details));
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error' }[status] ?? 'Error';
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
