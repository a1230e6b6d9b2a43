/**
 * An embeddable Khala client that implements the K2 consumer rules and reports every
 * anomaly it sees, so it serves both as a library and as the harness's probe.
 *
 * - keeps `last_applied_seq` per topic in a pluggable CursorStore;
 * - discards duplicates, buffers out-of-order updates, resubscribes when a gap does
 *   not fill within `gapTimeoutMs`;
 * - verifies every `payload_hash` (K3) and every server frame against the contract;
 * - on `stale_cursor` rebootstraps from the snapshot (K6) or the oldest resumable seq;
 * - reconnects with exponential backoff and jitter (not after `session_revoked`).
 *
 * @see contracts/KHALA_ORDERING.md#k2
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { ErrorFrame, KhalaSnapshot, KhalaUpdate, ServerFrame, StaleCursorDetails, SubscribeFrame } from '../../contracts/generated/khala-frames.ts';
import { khalaFrameValidator } from '../../contracts/khala-frame-schemas.ts';
import { formatAjvErrors } from '../../contracts/openapi-operations.ts';
import { payloadHash } from '../../contracts/payload-hash.ts';

export interface TopicCursor {
  seq: number;
  epoch?: string;
}

/** Where `last_applied_seq` per topic is kept (memory by default; a file or database for real consumers). */
export interface CursorStore {
  get(topic: string): TopicCursor | undefined | Promise<TopicCursor | undefined>;
  set(topic: string, cursor: TopicCursor): void | Promise<void>;
  delete(topic: string): void | Promise<void>;
}

export class MemoryCursorStore implements CursorStore {
  private readonly cursors = new Map<string, TopicCursor>();
  get(topic: string) {
    return this.cursors.get(topic);
  }
  set(topic: string, cursor: TopicCursor) {
    this.cursors.set(topic, cursor);
  }
  delete(topic: string) {
    this.cursors.delete(topic);
  }
}

export type AnomalyKind =
  | 'duplicate'
  | 'out_of_order'
  | 'gap'
  | 'hash_mismatch'
  | 'hash_changed'
  | 'invalid_frame'
  | 'stale_cursor'
  | 'rejected_topic'
  | 'error_frame'
  | 'disconnect'
  | 'unexpected_topic';

export interface Anomaly {
  kind: AnomalyKind;
  topic?: string;
  seq?: number;
  detail: string;
  at: number;
}

export interface KhalaClientOptions {
  /** ws:// or wss:// URL of /internal/v1/khala/ws. */
  url: string;
  /** A sync token, or a function that returns a fresh one for each connection. */
  token: string | (() => string | Promise<string>);
  topics: string[];
  /** Cursor used for a topic the store does not know: a seq to resume after (0 = from the start) or 'live'. Default 0. */
  initialCursor?: number | 'live';
  store?: CursorStore;
  /** Extra upgrade headers (e.g. Origin, an identity-aware proxy's token). */
  headers?: Record<string, string>;
  gapTimeoutMs?: number;
  /** How long an upgrade may take before the connection attempt fails (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Max updates buffered per topic before a gap is treated as a resume concern at once. */
  maxBuffered?: number;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  /** Validate every server frame against the AsyncAPI schemas (default true). */
  validateFrames?: boolean;
  /** Called once per applied update, in seq order per topic. */
  onApply?: (update: KhalaUpdate) => void;
  /** Called when a topic is rebootstrapped from a snapshot. */
  onSnapshot?: (topic: string, snapshot: KhalaSnapshot) => void;
}

interface TopicState {
  lastApplied: number;
  epoch: string | undefined;
  buffer: Map<number, KhalaUpdate>;
  gapTimer: NodeJS.Timeout | undefined;
  subscribed: boolean;
  /** True once the topic has a cursor (stored, applied, or the head of a live-only subscribe). */
  known: boolean;
  rejected: ErrorFrame | undefined;
  /** payload_hash of recently applied seqs, to catch a seq that changes content (K3). */
  hashes: Map<number, string>;
}

const HASH_MEMORY = 10_000;

export class KhalaClient extends EventEmitter {
  readonly anomalies: Anomaly[] = [];
  /** Every raw frame seen, when `recordFrames` is on (for evidence logs). */
  readonly frames: ServerFrame[] = [];
  recordFrames = false;
  private readonly store: CursorStore;
  private readonly topics = new Map<string, TopicState>();
  private ws: WebSocket | undefined;
  private closing = false;
  private revoked = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private requestCounter = 0;
  connections = 0;

  constructor(private readonly options: KhalaClientOptions) {
    super();
    this.store = options.store ?? new MemoryCursorStore();
    for (const topic of options.topics) {
      this.topics.set(topic, { lastApplied: 0, epoch: undefined, buffer: new Map(), gapTimer: undefined, subscribed: false, known: false, rejected: undefined, hashes: new Map() });
    }
  }

  /** Connects and subscribes; resolves once the first `subscribed` frame arrived. */
  async start(): Promise<void> {
    await this.connect();
  }

  lastApplied(topic: string): number {
    return this.topics.get(topic)?.lastApplied ?? 0;
  }

  rejection(topic: string): ErrorFrame | undefined {
    return this.topics.get(topic)?.rejected;
  }

  /** Resolves when `topic` has applied `seq` (rejects after timeoutMs). */
  waitForSeq(topic: string, seq: number, timeoutMs = 10_000): Promise<void> {
    if (this.lastApplied(topic) >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('applied', listener);
        reject(new Error(`${topic}: seq ${seq} not applied within ${timeoutMs} ms (last applied ${this.lastApplied(topic)})`));
      }, timeoutMs);
      const listener = (update: KhalaUpdate) => {
        if (update.topic === topic && update.seq >= seq) {
          clearTimeout(timer);
          this.off('applied', listener);
          resolve();
        }
      };
      this.on('applied', listener);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const state of this.topics.values()) if (state.gapTimer) clearTimeout(state.gapTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000);
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }

  private anomaly(kind: AnomalyKind, detail: string, topic?: string, seq?: number): void {
    const entry: Anomaly = { kind, detail, at: Date.now(), ...(topic ? { topic } : {}), ...(seq !== undefined ? { seq } : {}) };
    this.anomalies.push(entry);
    this.emit('anomaly', entry);
  }

  private async connect(): Promise<void> {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    for (const [topic, state] of this.topics) {
      const stored = await this.store.get(topic);
      if (stored) {
        state.lastApplied = stored.seq;
        state.epoch = stored.epoch;
        state.known = true;
      }
    }
    const ws = new WebSocket(this.options.url, { headers: { authorization: `Bearer ${token}`, ...(this.options.headers ?? {}) }, perMessageDeflate: false, handshakeTimeout: this.options.handshakeTimeoutMs ?? 10_000 });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      ws.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => {
          settled = true;
          reject(new KhalaHandshakeError(response.statusCode ?? 0, body));
        });
      });
      ws.once('open', () => {
        this.connections += 1;
        this.attempts = 0;
        this.sendSubscribe([...this.topics.keys()]);
      });
      ws.on('message', (data) => {
        const frame = this.onMessage(data.toString());
        if (!settled && frame?.type === 'subscribed') {
          settled = true;
          resolve();
        }
      });
      ws.once('error', (error) => {
        if (!settled) {
          settled = true;
          reject(error);
        }
      });
      ws.once('close', (code, reason) => {
        if (!settled) {
          settled = true;
          reject(new Error(`socket closed before subscribed (${code} ${reason.toString()})`));
        }
        this.onClose(ws, code, reason.toString());
      });
    });
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    for (const state of this.topics.values()) state.subscribed = false;
    if (this.closing) return;
    this.anomaly('disconnect', `socket closed ${code} ${reason}`.trim());
    if (code === 4001) {
      this.revoked = true;
      this.emit('revoked');
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const { initialDelayMs = 50, maxDelayMs = 5000, maxAttempts = Number.POSITIVE_INFINITY } = this.options.reconnect ?? {};
    if (this.closing || this.revoked || this.reconnectTimer) return;
    if (this.attempts >= maxAttempts) {
      this.emit('gave_up');
      return;
    }
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempts);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempts += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch(() => this.scheduleReconnect());
    }, delay);
  }

  private sendSubscribe(topics: string[]): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || topics.length === 0) return;
    const resumeAfter: Record<string, TopicCursor> = {};
    for (const topic of topics) {
      const state = this.topics.get(topic)!;
      state.rejected = undefined;
      const initial = this.options.initialCursor ?? 0;
      if (state.known) resumeAfter[topic] = { seq: state.lastApplied, ...(state.epoch ? { epoch: state.epoch } : {}) };
      else if (initial !== 'live') {
        resumeAfter[topic] = { seq: initial };
        state.lastApplied = initial;
      }
    }
    const frame: SubscribeFrame = { type: 'subscribe', request_id: `r${++this.requestCounter}`, topics: topics as SubscribeFrame['topics'], ...(Object.keys(resumeAfter).length ? { resume_after: resumeAfter } : {}) };
    ws.send(JSON.stringify(frame));
  }

  private onMessage(text: string): ServerFrame | undefined {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      this.anomaly('invalid_frame', `non-JSON frame: ${text.slice(0, 120)}`);
      return undefined;
    }
    if (this.recordFrames) this.frames.push(frame);
    if (this.options.validateFrames !== false) {
      const validate = khalaFrameValidator('ServerFrame');
      if (!validate(frame)) this.anomaly('invalid_frame', `${(frame as { type?: string }).type ?? '?'} frame does not match the contract: ${formatAjvErrors(validate.errors).slice(0, 3).map((v) => `${v.path} ${v.message}`).join('; ')}`);
    }
    switch (frame.type) {
      case 'subscribed':
        for (const [topic, info] of Object.entries(frame.topics)) {
          const state = this.topics.get(topic);
          if (!state) continue;
          state.subscribed = true;
          state.epoch = info.epoch;
          if (!state.known) {
            // A live-only subscribe starts after the head it was given; a resume starts at its cursor.
            if (this.options.initialCursor === 'live') state.lastApplied = info.head_seq;
            state.known = true;
          }
          void this.store.set(topic, { seq: state.lastApplied, epoch: info.epoch });
        }
        break;
      case 'update_batch':
        for (const update of frame.updates) this.onUpdate(update);
        break;
      case 'heartbeat':
        for (const [topic, head] of Object.entries(frame.watermarks)) {
          const state = this.topics.get(topic);
          if (state && head > state.lastApplied) this.armGapTimer(topic, state);
        }
        break;
      case 'error':
        this.onError(frame);
        break;
      default:
        break;
    }
    this.emit('frame', frame);
    return frame;
  }

  private onUpdate(update: KhalaUpdate): void {
    const state = this.topics.get(update.topic);
    if (!state) {
      this.anomaly('unexpected_topic', `update for unsubscribed topic ${update.topic}`, update.topic, update.seq);
      return;
    }
    const computed = payloadHash(update.payload);
    if (computed !== update.payload_hash) {
      this.anomaly('hash_mismatch', `payload_hash ${update.payload_hash} but the payload hashes to ${computed}`, update.topic, update.seq);
    }
    if (update.seq <= state.lastApplied) {
      const known = state.hashes.get(update.seq);
      if (known !== undefined && known !== update.payload_hash) {
        this.anomaly('hash_changed', `seq ${update.seq} was applied with payload_hash ${known}, now delivered with ${update.payload_hash}`, update.topic, update.seq);
      }
      this.anomaly('duplicate', `seq ${update.seq} ≤ last applied ${state.lastApplied}`, update.topic, update.seq);
      return;
    }
    if (update.seq > state.lastApplied + 1) {
      if (!state.buffer.has(update.seq)) this.anomaly('out_of_order', `expected seq ${state.lastApplied + 1}, got ${update.seq} (buffered)`, update.topic, update.seq);
      state.buffer.set(update.seq, update);
      if (state.buffer.size > (this.options.maxBuffered ?? 10_000)) this.resumeAfterGap(update.topic, state, 'buffer overflow');
      else this.armGapTimer(update.topic, state);
      return;
    }
    this.apply(state, update);
    for (let next = state.buffer.get(state.lastApplied + 1); next; next = state.buffer.get(state.lastApplied + 1)) {
      state.buffer.delete(next.seq);
      this.apply(state, next);
    }
    if (state.buffer.size === 0 && state.gapTimer) {
      clearTimeout(state.gapTimer);
      state.gapTimer = undefined;
    }
  }

  private apply(state: TopicState, update: KhalaUpdate): void {
    state.lastApplied = update.seq;
    state.hashes.set(update.seq, update.payload_hash);
    if (state.hashes.size > HASH_MEMORY) state.hashes.delete(state.hashes.keys().next().value as number);
    void this.store.set(update.topic, { seq: update.seq, ...(state.epoch ? { epoch: state.epoch } : {}) });
    this.options.onApply?.(update);
    this.emit('applied', update);
  }

  private armGapTimer(topic: string, state: TopicState): void {
    if (state.gapTimer) return;
    const progressAt = state.lastApplied;
    state.gapTimer = setTimeout(() => {
      state.gapTimer = undefined;
      const stillMissing = state.buffer.size > 0 || state.lastApplied === progressAt;
      if (stillMissing && state.lastApplied === progressAt) this.resumeAfterGap(topic, state, `no progress past seq ${progressAt} within ${this.options.gapTimeoutMs ?? 1000} ms`);
    }, this.options.gapTimeoutMs ?? 1000);
  }

  /** K2: a gap that does not fill is a resume concern: resubscribe from last_applied_seq. */
  private resumeAfterGap(topic: string, state: TopicState, why: string): void {
    if (state.buffer.size > 0) this.anomaly('gap', `seq ${state.lastApplied + 1} missing (${why}); resubscribing after ${state.lastApplied}`, topic, state.lastApplied + 1);
    if (state.gapTimer) clearTimeout(state.gapTimer);
    state.gapTimer = undefined;
    state.buffer.clear();
    this.sendSubscribe([topic]);
  }

  private onError(frame: ErrorFrame): void {
    const topic = frame.topic;
    const state = topic ? this.topics.get(topic) : undefined;
    if (frame.code === 'stale_cursor' && topic && state) {
      const details = frame.details as unknown as StaleCursorDetails;
      this.anomaly('stale_cursor', `stale cursor ${details.requested_seq}: ${details.reason_codes?.join(', ')}`, topic, details.requested_seq);
      this.rebootstrap(topic, state, details);
      return;
    }
    if (topic && state && (frame.code === 'forbidden_topic' || frame.code === 'bad_subscription')) {
      state.rejected = frame;
      this.anomaly('rejected_topic', `${frame.code}: ${frame.message}`, topic);
      this.emit('rejected', frame);
      return;
    }
    this.anomaly('error_frame', `${frame.code}: ${frame.message}`, topic);
  }

  /** K6 client rule: drop local state, continue from the snapshot or the oldest resumable seq. */
  private rebootstrap(topic: string, state: TopicState, details: StaleCursorDetails): void {
    state.buffer.clear();
    state.hashes.clear();
    state.epoch = details.epoch;
    if (details.snapshot) {
      state.lastApplied = details.snapshot.as_of_seq;
      this.options.onSnapshot?.(topic, details.snapshot);
      this.emit('snapshot', topic, details.snapshot);
    } else {
      state.lastApplied = Math.max(details.oldest_available_seq - 1, details.head_seq - details.replay_budget_events, 0);
    }
    state.known = true;
    void this.store.set(topic, { seq: state.lastApplied, ...(state.epoch ? { epoch: state.epoch } : {}) });
    this.sendSubscribe([topic]);
  }
}

export class KhalaHandshakeError extends Error {
  override readonly name = 'KhalaHandshakeError';
  readonly reasonCode: string | undefined;
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`WebSocket upgrade denied with HTTP ${status}: ${body.slice(0, 300)}`);
    try {
      this.reasonCode = (JSON.parse(body) as { error?: { details?: { reason_code?: string } } }).error?.details?.reason_code;
    } catch {
      this.reasonCode = undefined;
    }
  }
}
