/**
 * A raw Khala socket that records every server frame and checks it against the
 * AsyncAPI schemas: the harness's probe for exact wire behaviour (the KhalaClient,
 * by contrast, hides duplicates and reordering the way a consumer should).
 *
 * Alongside the raw frames the probe keeps, per subscribed topic, the stream as a K2
 * consumer reads it (k2-reader.ts): the checks judge delivery from that reading, and
 * keep the raw frames for what K2 does not excuse (K3 hashes, per-frame content).
 *
 * Reconnection is opt-in (`reconnect`): when the socket is cut by the transport (1006,
 * or 1001/1011/1012/1013/1014 that the probe did not cause itself), the probe opens a
 * new socket with the same token and headers and resubscribes every topic with
 * `resume_after` = its K2 `last_applied` (and the epoch it saw), so a check keeps
 * waiting on one growing list of frames. It never reconnects after an application
 * close (4001, 4002, 1007, 1008, 1009, …) or after `close()`. Without the option the
 * probe behaves on the wire exactly as a single socket.
 *
 * @see contracts/KHALA_ORDERING.md#k2
 */
import WebSocket from 'ws';
import type { KhalaUpdate, ServerFrame, UpdateBatchFrame } from '../../contracts/generated/khala-frames.ts';
import { khalaFrameValidator } from '../../contracts/khala-frame-schemas.ts';
import { formatAjvErrors } from '../../contracts/openapi-operations.ts';
import { K2Reader } from './k2-reader.ts';

/** Close codes a transport (proxy, load balancer, restarting node) causes: a K2 consumer resumes after them. */
export const TRANSPORT_CLOSE_CODES: ReadonlySet<number> = new Set([1006, 1001, 1011, 1012, 1013, 1014]);

export interface ProbeReconnectOptions {
  /** Consecutive failed reconnection attempts before the probe gives up (default 4). */
  attempts?: number;
  /** Wait before the first attempt, doubled per consecutive failure (default 25 ms). */
  backoffMs?: number;
  /** Reconnections over the probe's whole life (default 100). */
  maxReconnects?: number;
  /** Stops reconnecting once aborted (a check's deadline). */
  signal?: AbortSignal;
}

export interface KhalaProbeOptions {
  /** Reconnect after transport cuts (off by default: exact single-socket behaviour). */
  reconnect?: ProbeReconnectOptions;
}

interface Cursor {
  seq: number;
  epoch?: string;
}

/** One subscribed topic as the probe reads it. */
interface TopicReading {
  /** The subscribe's own resume_after for the topic; undefined for a live-only subscribe. */
  original: Cursor | undefined;
  /** Undefined until the start is known (a live-only topic waits for `subscribed`). */
  reader: K2Reader<KhalaUpdate> | undefined;
  /** Updates that arrived before the start was known. */
  early: KhalaUpdate[];
  epoch: string | undefined;
  /** Batches whose updates of the topic do not ascend (K2 requires it within one batch). */
  orderViolations: string[];
}

/** One update_batch frame that carries updates of a topic, with where it came from. */
export interface BatchArrival {
  frame: UpdateBatchFrame;
  /** The frame's bytes as received (byte-identical copies are transport duplicates). */
  text: string;
  /** 0-based index of the socket the frame came on. */
  connection: number;
  /** Index in `frames`. */
  index: number;
}

async function connect(url: string, token: string, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}`, ...headers }, perMessageDeflate: false, handshakeTimeout: timeoutMs });
  const abort = () => ws.terminate();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('socket closed during the upgrade')));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        reject(new UpgradeDenied(res.statusCode ?? 0));
      });
    });
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  return ws;
}

class UpgradeDenied extends Error {
  constructor(readonly status: number) {
    super(`upgrade denied with HTTP ${status}`);
  }
}

export class KhalaProbe {
  readonly frames: ServerFrame[] = [];
  /** The text of each frame in `frames`, as received. */
  readonly texts: string[] = [];
  /** The socket (0-based) each frame in `frames` came on. */
  readonly frameConnections: number[] = [];
  /** Server frames that break khala.asyncapi.yaml. */
  readonly invalidFrames: string[] = [];
  /** Close code of the probe's last socket, once it is closed for good (not while reconnecting). */
  closeCode: number | undefined;
  /** Close codes of every socket, in order (including the ones the probe reconnected after). */
  readonly closeCodes: number[] = [];
  /** Sockets opened after a transport cut. */
  reconnects = 0;
  private connection = 0;
  private current: WebSocket;
  private closedByCheck = false;
  private reconnecting = false;
  private readonly queued: string[] = [];
  /** Pings not answered yet, by request_id: sent again on a new socket (the old one may have lost them). */
  private readonly unansweredPings = new Map<string, string>();
  private readonly readings = new Map<string, TopicReading>();
  private waiters: { predicate: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  private closeWaiters: ((code: number) => void)[] = [];

  private constructor(
    ws: WebSocket,
    private readonly url: string,
    private readonly token: string,
    private readonly headers: Record<string, string>,
    private readonly timeoutMs: number,
    private readonly options: KhalaProbeOptions,
  ) {
    this.current = ws;
    this.attach(ws);
  }

  static async open(url: string, token: string, headers: Record<string, string> = {}, timeoutMs = 10_000, options: KhalaProbeOptions = {}): Promise<KhalaProbe> {
    const ws = await connect(url, token, headers, timeoutMs);
    return new KhalaProbe(ws, url, token, headers, timeoutMs, options);
  }

  /** The current socket (a new one after each reconnection). */
  get ws(): WebSocket {
    return this.current;
  }

  /** How many sockets the probe has used (1 + reconnections). */
  get connections(): number {
    return this.connection + 1;
  }

  private attach(ws: WebSocket): void {
    const connection = this.connection;
    ws.on('message', (data) => {
      if (ws === this.current) this.onText(data.toString(), connection);
    });
    ws.on('close', (code) => this.onClose(ws, code));
    ws.on('error', () => {});
  }

  private onText(text: string, connection: number): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      this.invalidFrames.push(`non-JSON frame: ${text.slice(0, 200)}`);
      return;
    }
    const validate = khalaFrameValidator('ServerFrame');
    if (!validate(frame)) this.invalidFrames.push(`${text.slice(0, 200)}: ${formatAjvErrors(validate.errors).slice(0, 2).map((v) => `${v.path} ${v.message}`).join('; ')}`);
    this.frames.push(frame);
    this.texts.push(text);
    this.frameConnections.push(connection);
    if (frame.type === 'pong') this.unansweredPings.delete(String(frame.request_id));
    this.read(frame);
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate(frame)) return true;
      w.resolve(frame);
      return false;
    });
  }

  /** Feeds a frame to the K2 reading of its topics. */
  private read(frame: ServerFrame): void {
    if (frame.type === 'subscribed' && frame.topics && typeof frame.topics === 'object') {
      for (const [topic, info] of Object.entries(frame.topics)) {
        const reading = this.readings.get(topic);
        if (!reading || !info) continue;
        reading.epoch ??= info.epoch;
        if (!reading.reader) {
          // A live-only topic: K2's last_applied starts at the head the subscribe was given.
          reading.reader = new K2Reader<KhalaUpdate>(info.head_seq);
          reading.reader.feedAll(reading.early.splice(0));
        }
      }
      return;
    }
    if (frame.type !== 'update_batch' || !Array.isArray(frame.updates)) return;
    const previous = new Map<string, number>();
    for (const update of frame.updates) {
      if (!update || typeof update !== 'object' || typeof update.seq !== 'number') continue;
      const reading = this.readings.get(update.topic);
      if (!reading) continue;
      const before = previous.get(update.topic);
      if (before !== undefined && update.seq <= before) reading.orderViolations.push(`within one update_batch, expected seq ${before + 1} after ${before}, got ${update.seq} (updates of a topic must ascend within a batch, K2)`);
      previous.set(update.topic, update.seq);
      if (update.epoch) reading.epoch = update.epoch;
      if (reading.reader) reading.reader.feed(update);
      else reading.early.push(update);
    }
  }

  send(frame: unknown): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    this.remember(frame);
    const value = parsed(frame) as { type?: unknown; request_id?: unknown } | undefined;
    const ping = this.options.reconnect && value?.type === 'ping' && typeof value.request_id === 'string';
    if (ping) this.unansweredPings.set(value.request_id as string, text);
    if (this.reconnecting) {
      // Subscribes are remembered and sent with the resubscription, pings with the unanswered ones; anything else waits.
      if (!isSubscribe(value) && !ping) this.queued.push(text);
      return;
    }
    this.current.send(text);
  }

  /** A subscribe (re)starts the K2 reading of its topics at its cursor; an unsubscribe ends it. */
  private remember(frame: unknown): void {
    const value = parsed(frame);
    if (isSubscribe(value)) {
      for (const topic of value.topics) {
        const cursor = value.resume_after?.[topic];
        const original = cursor && typeof cursor.seq === 'number' ? { seq: cursor.seq, ...(typeof cursor.epoch === 'string' ? { epoch: cursor.epoch } : {}) } : undefined;
        this.readings.delete(topic);
        this.readings.set(topic, { original, reader: original ? new K2Reader<KhalaUpdate>(original.seq) : undefined, early: [], epoch: original?.epoch, orderViolations: [] });
      }
    } else if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'unsubscribe') {
      const topics = (value as { topics?: unknown }).topics;
      if (Array.isArray(topics)) for (const topic of topics) this.readings.delete(String(topic));
    }
  }

  /** The topic's stream as a K2 consumer reads it (since the last subscribe of the topic). */
  k2(topic: string): K2Reader<KhalaUpdate> | undefined {
    return this.readings.get(topic)?.reader;
  }

  /** Batches whose updates of `topic` do not ascend. */
  orderViolations(topic: string): string[] {
    return this.readings.get(topic)?.orderViolations ?? [];
  }

  /** The update_batch frames that carry updates of `topic`, in arrival order. */
  batches(topic: string): BatchArrival[] {
    const found: BatchArrival[] = [];
    this.frames.forEach((frame, index) => {
      if (frame.type === 'update_batch' && frame.updates.some((u) => u.topic === topic)) found.push({ frame, text: this.texts[index]!, connection: this.frameConnections[index]!, index });
    });
    return found;
  }

  /** Resolves with the first frame (already received or future) matching predicate. */
  waitFor<T extends ServerFrame = ServerFrame>(predicate: (f: ServerFrame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<T> {
    const seen = this.frames.slice(fromIndex).find(predicate);
    if (seen) return Promise.resolve(seen as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; last frames: ${JSON.stringify(this.frames.slice(-5)).slice(0, 800)}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f as T);
        },
      });
    });
  }

  /** seqs of update_batch updates for topic, in arrival order (raw: duplicates and reordering included). */
  seqs(topic: string): number[] {
    return this.frames.flatMap((f) => (f.type === 'update_batch' ? f.updates.filter((u) => u.topic === topic).map((u) => u.seq) : []));
  }

  waitClosed(timeoutMs = 5000): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const waiter = (code: number) => {
        clearTimeout(timer);
        resolve(code);
      };
      const timer = setTimeout(() => {
        this.closeWaiters = this.closeWaiters.filter((w) => w !== waiter);
        reject(new Error('socket did not close'));
      }, timeoutMs);
      this.closeWaiters.push(waiter);
    });
  }

  close(): void {
    this.closedByCheck = true;
    this.current.terminate();
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.current) return;
    this.closeCodes.push(code);
    const reconnect = this.options.reconnect;
    const aborted = reconnect?.signal?.aborted ?? false;
    if (!reconnect || this.closedByCheck || aborted || !TRANSPORT_CLOSE_CODES.has(code) || this.reconnects >= (reconnect.maxReconnects ?? 100)) {
      this.finish(code);
      return;
    }
    this.reconnecting = true;
    void this.reconnect(reconnect, code);
  }

  private async reconnect(options: ProbeReconnectOptions, lastCode: number): Promise<void> {
    const attempts = options.attempts ?? 4;
    const backoff = options.backoffMs ?? 25;
    for (let attempt = 0; attempt < attempts; attempt++) {
      await sleep(backoff * 2 ** attempt, options.signal);
      if (this.closedByCheck || options.signal?.aborted) break;
      let ws: WebSocket;
      try {
        ws = await connect(this.url, this.token, this.headers, this.timeoutMs, options.signal);
      } catch (error) {
        // A denial by the application (401 revoked, 403, …) is final; refused connections, 429 and 5xx are retried.
        if (error instanceof UpgradeDenied && error.status >= 400 && error.status < 500 && error.status !== 429) break;
        continue;
      }
      if (this.closedByCheck || options.signal?.aborted) {
        ws.terminate();
        break;
      }
      this.connection += 1;
      this.reconnects += 1;
      this.current = ws;
      this.attach(ws);
      this.reconnecting = false;
      this.resubscribe();
      for (const text of this.unansweredPings.values()) ws.send(text);
      for (const text of this.queued.splice(0)) ws.send(text);
      return;
    }
    this.reconnecting = false;
    this.finish(lastCode);
  }

  /** One subscribe for every topic: resume after its K2 last_applied, or its original subscribe if nothing was applied yet. */
  private resubscribe(): void {
    if (this.readings.size === 0) return;
    const resumeAfter: Record<string, Cursor> = {};
    for (const [topic, reading] of this.readings) {
      const epoch = reading.epoch ?? reading.original?.epoch;
      if (reading.reader && (reading.reader.applied.length > 0 || !reading.original)) resumeAfter[topic] = { seq: reading.reader.lastApplied, ...(epoch ? { epoch } : {}) };
      else if (reading.original) resumeAfter[topic] = reading.original;
    }
    const frame = { type: 'subscribe', request_id: `reconnect-${this.reconnects}`, topics: [...this.readings.keys()], ...(Object.keys(resumeAfter).length ? { resume_after: resumeAfter } : {}) };
    this.current.send(JSON.stringify(frame));
  }

  private finish(code: number): void {
    this.closeCode = code;
    for (const waiter of this.closeWaiters.splice(0)) waiter(code);
  }
}

function parsed(frame: unknown): unknown {
  if (typeof frame !== 'string') return frame;
  try {
    return JSON.parse(frame);
  } catch {
    return undefined;
  }
}

function isSubscribe(value: unknown): value is { type: 'subscribe'; topics: string[]; resume_after?: Record<string, { seq?: unknown; epoch?: unknown }> } {
  if (!value || typeof value !== 'object') return false;
  const frame = value as { type?: unknown; topics?: unknown; resume_after?: unknown };
  return frame.type === 'subscribe' && Array.isArray(frame.topics) && frame.topics.every((t) => typeof t === 'string') && (frame.resume_after === undefined || (typeof frame.resume_after === 'object' && frame.resume_after !== null));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Outcome of an upgrade attempt: the HTTP status and error envelope of a denial, or 101. */
export async function tryUpgrade(url: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<{ status: number; body: any }> {
  const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: undefined });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // a non-JSON denial is reported as text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.once('error', (error) => {
      if (!String(error).includes('Unexpected server response')) reject(error);
    });
  });
}
