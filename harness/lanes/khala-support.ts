/**
 * Shared plumbing of the khala lanes: sync tokens (signed by the harness from the
 * target's signing key, or minted by the target), ws URLs, runs with events, and the
 * target's class budgets from /internal/v1/khala/fanout/metrics.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ErrorFrame, KhalaUpdate, ServerFrame, UpdateBatchFrame } from '../../contracts/generated/khala-frames.ts';
import type { components } from '../../contracts/generated/runtime-api.ts';
import { type CheckContext, CheckSkip, expectThat } from '../check-runner.ts';
import { KhalaClient, type KhalaClientOptions } from '../khala/khala-client.ts';
import type { K2Reader } from '../khala/k2-reader.ts';
import { type BatchArrival, KhalaProbe } from '../khala/khala-probe.ts';
import { type Observation, ObservationLedger } from '../khala/observation-ledger.ts';
import { parseSse } from '../scenarios/scenario.ts';
import type { TargetSpec } from '../target.ts';
import type { TargetHttp } from '../target-http.ts';

export const ALL_SCOPES = ['runtime.run_events', 'runtime.worker_lifecycle', 'runtime.codex_worker_events', 'runtime.read'];
const DEFAULT_ISSUER = 'https://openagents.com';
const DEFAULT_AUDIENCE = 'openagents-sync';

export function wsUrlOf(target: TargetSpec, baseUrl = target.base_url): string {
  if (target.ws_url && baseUrl === target.base_url) return target.ws_url;
  return `${baseUrl.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
}

export function baseClaims(target: TargetSpec, sub: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: target.sync_token_issuer ?? DEFAULT_ISSUER, aud: target.sync_token_audience ?? DEFAULT_AUDIENCE, sub, exp: now + 600, nbf: now, iat: now, jti: randomUUID(), scopes: ALL_SCOPES };
}

/** Signs arbitrary claims with the target's key; checks that need crafted tokens skip without one. */
export async function signClaims(target: TargetSpec, claims: Record<string, unknown>, key = target.sync_signing_key): Promise<string> {
  if (!key) throw new CheckSkip('missing_input:sync_signing_key');
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(key));
}

/** A sync token for `sub`: signed by the harness when it has the key, else minted by the target. */
export async function syncToken(ctx: CheckContext, sub: string, extra: { scopes?: string[]; session_id?: string } = {}): Promise<string> {
  if (ctx.target.sync_signing_key) {
    return signClaims(ctx.target, { ...baseClaims(ctx.target, sub), scopes: extra.scopes ?? ALL_SCOPES, ...(extra.session_id ? { sid: extra.session_id } : {}) });
  }
  const r = await ctx.http.request({ method: 'POST', path: '/internal/v1/sync/token', body: { sub, scopes: extra.scopes ?? ALL_SCOPES, ttl_seconds: 600, ...(extra.session_id ? { session_id: extra.session_id } : {}) } });
  expectThat(r.status === 200 && typeof r.json?.token === 'string', `POST /internal/v1/sync/token: expected 200 with a token, got ${r.status}`);
  return r.json.token as string;
}

export async function createRun(ctx: CheckContext, owner = ctx.probeId): Promise<{ runId: string; topic: string }> {
  const r = await ctx.http.request({ method: 'POST', path: '/internal/v1/runs', body: { thread_id: ctx.probeId }, headers: { 'x-oa-user-id': owner } });
  expectThat(r.status === 201, `POST /internal/v1/runs: expected 201, got ${r.status}`);
  const runId = r.json.run.id as string;
  return { runId, topic: `run:${runId}:events` };
}

export interface AppendedEvent {
  seq: number;
  payload_hash: string;
}

/** How long a writer waits in total on 429 Retry-After before it gives up (publish limits, K1). */
const RATE_LIMIT_PATIENCE_MS = 10_000;

/** One append; a 429 is retried after its Retry-After (it must not consume a seq, K1). */
export async function appendEvent(ctx: CheckContext, runId: string, body: { event_type?: string; idempotency_key: string; payload: unknown }, http: TargetHttp = ctx.http) {
  const give_up = Date.now() + RATE_LIMIT_PATIENCE_MS;
  for (;;) {
    const r = await http.request({ method: 'POST', path: `/internal/v1/runs/${runId}/events`, body: { event_type: 'runtime_gate.probe', ...body } });
    if (r.status !== 429 || Date.now() >= give_up) return r;
    const retryAfter = Number(r.headers.get('retry-after') ?? '1');
    await new Promise((resolve) => setTimeout(resolve, Math.min(2000, Math.max(50, retryAfter * 1000))));
  }
}

export async function appendEvents(ctx: CheckContext, runId: string, count: number, label = 'e', http = ctx.http): Promise<AppendedEvent[]> {
  const events: AppendedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const r = await appendEvent(ctx, runId, { idempotency_key: `${ctx.probeId}-${label}-${i}`, payload: { probe: ctx.probeId, label, i } }, http);
    expectThat(r.status === 200, `POST /internal/v1/runs/${runId}/events #${i}: expected 200, got ${r.status}`);
    events.push({ seq: r.json.event.seq, payload_hash: r.json.event.payload_hash });
  }
  return events;
}

/** GET …/messages after `afterSeq`: one page. */
export function pollPage(ctx: CheckContext, topic: string, token: string, afterSeq: number, limit = 100, http = ctx.http) {
  return http.request({ method: 'GET', path: `/internal/v1/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=${afterSeq}&limit=${limit}`, auth: { bearer: token } });
}

/** The whole topic after `afterSeq` over HTTP poll, page by page (recorded as K3 observations). */
export async function pollAll(ctx: CheckContext, topic: string, token: string, pageSize = 100, afterSeq = 0, http = ctx.http): Promise<Observation[]> {
  const ledger: Observation[] = [];
  for (let cursor = afterSeq, pages = 0; pages < 10_000; pages++) {
    const r = await pollPage(ctx, topic, token, cursor, pageSize, http);
    expectThat(r.status === 200, `poll ${topic} after ${cursor}: expected 200, got ${r.status} ${JSON.stringify(r.json?.error ?? '').slice(0, 200)}`);
    const messages = (r.json?.messages ?? []) as Observation[];
    ledger.push(...messages.map((m) => ({ topic, seq: m.seq, payload_hash: m.payload_hash, payload: m.payload })));
    if (r.json.replay_complete || messages.length === 0) break;
    cursor = r.json.next_cursor;
  }
  observations(ctx).recordAll(`poll ${http === ctx.http ? '' : `${http.target.base_url} `}${topic}`, ledger);
  return ledger;
}

/** The run's events over SSE from `cursor` until the stream closes at the head (recorded as K3 observations). */
export async function sseLedger(ctx: CheckContext, runId: string, cursor = 0): Promise<Observation[]> {
  const r = await ctx.http.request({ method: 'GET', path: `/internal/v1/runs/${runId}/stream?cursor=${cursor}`, headers: { accept: 'text/event-stream' }, timeoutMs: 15_000 });
  expectThat(r.status === 200, `SSE /internal/v1/runs/${runId}/stream?cursor=${cursor}: expected 200, got ${r.status}`);
  const topic = `run:${runId}:events`;
  const ledger: Observation[] = [];
  for (const frame of parseSse(r.text)) {
    const data = frame.data as { seq?: number; payload_hash?: string; payload?: unknown } | string;
    expectThat(typeof data === 'object' && data !== null, `SSE frame data is not JSON: ${String(data).slice(0, 200)}`);
    expectThat(String(data.seq) === frame.id, `SSE frame id ${frame.id} differs from its data seq ${data.seq}`);
    ledger.push({ topic, seq: data.seq!, payload_hash: data.payload_hash!, payload: data.payload });
  }
  observations(ctx).recordAll(`sse ${topic}`, ledger);
  return ledger;
}

/** The run-wide K3 ledger every khala check reports what it saw to. */
export function observations(ctx: CheckContext): ObservationLedger {
  ctx.run.khalaObservations ??= new ObservationLedger();
  return ctx.run.khalaObservations as ObservationLedger;
}

/** Updates of `topic` in a probe's update batches, every raw arrival (duplicates too), as K3 observations. */
export function probeUpdates(probe: KhalaProbe, topic: string): Observation[] {
  return probe.frames.flatMap((f) => (f.type === 'update_batch' ? f.updates.filter((u) => u.topic === topic).map((u) => ({ topic, seq: u.seq, payload_hash: u.payload_hash, payload: u.payload })) : []));
}

/**
 * The sockets, clients and proxies a check opens, closed when the check ends, also
 * when its deadline aborts it (so a hung target never leaks sockets into the next check).
 */
export class SocketScope {
  private readonly closers: (() => unknown)[] = [];
  private readonly probes: KhalaProbe[] = [];
  private readonly clients: KhalaClient[] = [];

  constructor(private readonly ctx: CheckContext) {
    ctx.signal.addEventListener('abort', () => void this.closeAll(), { once: true });
  }

  /**
   * A raw probe that, like a K2 consumer, resumes on a new socket when the transport cuts
   * it (never after an application close or its own close), within the check's deadline.
   */
  async probe(token: string, options: { url?: string; headers?: Record<string, string> } = {}): Promise<KhalaProbe> {
    const probe = await KhalaProbe.open(options.url ?? wsUrlOf(this.ctx.target), token, { ...(this.ctx.target.headers ?? {}), ...(options.headers ?? {}) }, 10_000, { reconnect: { signal: this.ctx.signal } });
    this.closers.push(() => probe.close());
    this.probes.push(probe);
    return probe;
  }

  /** A raw probe that sends one subscribe with `resume_after {topic: {seq, epoch?}}`. */
  async resume(token: string, topic: string, seq: number, epoch?: string, url?: string): Promise<KhalaProbe> {
    const probe = await this.probe(token, url ? { url } : {});
    probe.send({ type: 'subscribe', request_id: 'resume', topics: [topic], resume_after: { [topic]: { seq, ...(epoch ? { epoch } : {}) } } });
    return probe;
  }

  client(options: Omit<KhalaClientOptions, 'url'> & { url?: string }): KhalaClient {
    const client = new KhalaClient({ url: wsUrlOf(this.ctx.target), ...options, headers: { ...(this.ctx.target.headers ?? {}), ...(options.headers ?? {}) } });
    this.closers.push(() => client.close());
    this.clients.push(client);
    return client;
  }

  adopt(close: () => unknown): void {
    this.closers.push(close);
  }

  /** Server frames seen by this scope that break khala.asyncapi.yaml. */
  invalidFrames(): string[] {
    return [...this.probes.flatMap((p) => p.invalidFrames), ...this.clients.flatMap((c) => c.anomalies.filter((a) => a.kind === 'invalid_frame').map((a) => a.detail))];
  }

  async closeAll(): Promise<void> {
    const closers = this.closers.splice(0);
    await Promise.allSettled(closers.reverse().map(async (close) => close()));
  }
}

/** Runs `body` with a SocketScope that is always closed afterwards. */
export async function withSockets<T>(ctx: CheckContext, body: (scope: SocketScope) => Promise<T>): Promise<T> {
  const scope = new SocketScope(ctx);
  try {
    const result = await body(scope);
    const invalid = scope.invalidFrames();
    expectThat(invalid.length === 0, `the target sent ${invalid.length} frame(s) that break khala.asyncapi.yaml: ${invalid.slice(0, 3).join('; ')}`);
    return result;
  } finally {
    await scope.closeAll();
  }
}

/** The first update_batch or error frame that concerns `topic` (a resume's outcome). */
export function resumeOutcome(probe: KhalaProbe, topic: string, timeoutMs = 10_000): Promise<UpdateBatchFrame | ErrorFrame> {
  return probe.waitFor<UpdateBatchFrame | ErrorFrame>(
    (f: ServerFrame) => (f.type === 'error' && (f.topic === topic || f.topic === undefined)) || (f.type === 'update_batch' && (f.updates.some((u) => u.topic === topic) || topic in f.head_watermarks)),
    timeoutMs,
  );
}

/**
 * How long a check waits, once `seq` arrived, for the gaps before it to fill (a frame
 * held back by a reordering transport, a replay on a resumed socket), before the
 * K2 reading names what never arrived.
 */
const GAP_GRACE_MS = 2000;

/**
 * Waits until the probe received `seq` of `topic` (failing with what it saw instead),
 * then, bounded, until its K2 reading applied it. A gap left after that is for the
 * caller's expectDelivered to name.
 */
export async function waitForSeq(probe: KhalaProbe, topic: string, seq: number, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  try {
    await probe.waitFor((f) => f.type === 'update_batch' && f.updates.some((u) => u.topic === topic && u.seq >= seq), timeoutMs);
  } catch {
    const seen = probe.seqs(topic);
    const reading = probe.k2(topic);
    expectThat(false, `${topic}: seq ${seq} did not arrive within ${timeoutMs} ms (received ${seen.length} updates, last ${seen.at(-1) ?? 'none'}${reading ? `; ${reading.describe()}` : ''}${probe.closeCode !== undefined ? `, socket closed ${probe.closeCode}` : ''}${probe.reconnects ? `, after ${probe.reconnects} reconnection(s)` : ''})`);
  }
  const grace = Math.max(0, Math.min(GAP_GRACE_MS, started + timeoutMs - Date.now()));
  await probe.waitFor(() => (probe.k2(topic)?.lastApplied ?? Number.NEGATIVE_INFINITY) >= seq, grace).catch(() => undefined);
}

/**
 * Judges a delivered stream as a K2 consumer reads it (KHALA_ORDERING.md K2): the
 * updates of `topic` applied since its subscribe are exactly first…final, whatever
 * was duplicated or reordered on the way; a gap that never filled is named. Within
 * one batch the updates of a topic must ascend (K2 requires that of the server).
 * Returns the reading (applied ledger, duplicate and reorder counts).
 * @see contracts/KHALA_ORDERING.md#k2
 */
export function expectDelivered(label: string, probe: KhalaProbe, topic: string, first: number, final: number): K2Reader<KhalaUpdate> {
  const violations = probe.orderViolations(topic);
  expectThat(violations.length === 0, `${label}: ${violations[0]}${violations.length > 1 ? ` (and ${violations.length - 1} more)` : ''}`);
  const reading = probe.k2(topic);
  expectThat(reading, `${label}: no subscribed frame for ${topic}, so there is no stream to read (seqs received: [${probe.seqs(topic).slice(0, 10).join(',')}])`);
  expectThat(reading.start === first - 1, `${label}: the stream was read from cursor ${reading.start}, expected ${first - 1}`);
  const problem = reading.shortfall(final);
  expectThat(problem === undefined, `${label}: ${problem}`);
  return reading;
}

/** The updates of `topic` a K2 consumer applied, in seq order, as a ledger (the raw arrivals go to K3 via probeUpdates). */
export function appliedLedger(probe: KhalaProbe, topic: string): Observation[] {
  return (probe.k2(topic)?.applied ?? []).map((u) => ({ topic, seq: u.seq, payload_hash: u.payload_hash, payload: u.payload }));
}

/** "; K2: 2 duplicates discarded, 1 arrival ahead of order buffered; 1 reconnection" (empty on a clean stream). */
export function deliveryNotes(probe: KhalaProbe, topic: string): string {
  const notes = [probe.k2(topic)?.faultSummary() ?? '', probe.reconnects ? `${probe.reconnects} reconnection${probe.reconnects === 1 ? '' : 's'}` : ''].filter(Boolean);
  return notes.length ? ` (${notes.join('; ')})` : '';
}

/** Batches of `topic` per socket, byte-identical copies of one frame on a socket dropped (transport duplicates, K2). */
function distinctBatches(probe: KhalaProbe, topic: string): Map<number, BatchArrival[]> {
  const bySocket = new Map<number, BatchArrival[]>();
  const seen = new Set<string>();
  for (const batch of probe.batches(topic)) {
    const key = `${batch.connection}\u0000${batch.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = bySocket.get(batch.connection) ?? [];
    list.push(batch);
    bySocket.set(batch.connection, list);
  }
  return bySocket;
}

const firstSeqOf = (batch: BatchArrival, topic: string) => Math.min(...batch.frame.updates.filter((u) => u.topic === topic).map((u) => u.seq));

/**
 * The replay_complete pattern of K4 on each socket, judged in seq order (batches of the
 * topic ordered by their first seq, byte-identical copies ignored), not arrival order:
 * false…false, then true, never false again; some batch says true.
 * @see contracts/KHALA_ORDERING.md#k4
 */
export function expectReplayCompletePattern(probe: KhalaProbe, topic: string): void {
  let completed = false;
  for (const [socket, batches] of distinctBatches(probe, topic)) {
    const ordered = [...batches].sort((a, b) => firstSeqOf(a, topic) - firstSeqOf(b, topic));
    const flags = ordered.map((b) => b.frame.replay_complete);
    const firstTrue = flags.indexOf(true);
    if (firstTrue >= 0) completed = true;
    const where = probe.connections > 1 ? ` on socket ${socket + 1} of ${probe.connections}` : '';
    expectThat(firstTrue < 0 || flags.slice(firstTrue).every(Boolean), `${topic}: replay_complete went back to false after the replay completed${where}, in seq order ([${flags.join(',')}] for batches starting at ${ordered.map((b) => firstSeqOf(b, topic)).join(',')})`);
  }
  expectThat(completed, `${topic}: no update_batch with replay_complete true`);
}

/**
 * K4's seam duplicates: one (topic, seq) carried by two different frames on the same
 * socket. A byte-identical copy of a whole frame is a transport duplicate (what a
 * frame-duplicating proxy makes, K2) and only counted.
 * @see contracts/KHALA_ORDERING.md#k4
 */
export function seamDuplicates(probe: KhalaProbe, topic: string): { seam: string[]; transportCopies: number } {
  const seam: string[] = [];
  let transportCopies = 0;
  const bySocket = new Map<number, Map<number, Map<string, number>>>();
  for (const batch of probe.batches(topic)) {
    const seqs = bySocket.get(batch.connection) ?? new Map<number, Map<string, number>>();
    bySocket.set(batch.connection, seqs);
    for (const update of batch.frame.updates) {
      if (update.topic !== topic) continue;
      const frames = seqs.get(update.seq) ?? new Map<string, number>();
      seqs.set(update.seq, frames);
      if (frames.has(batch.text)) transportCopies += 1;
      else frames.set(batch.text, batch.index);
    }
  }
  for (const [socket, seqs] of bySocket) {
    for (const [seq, frames] of seqs) {
      if (frames.size < 2) continue;
      const described = [...frames.values()].map((index) => {
        const frame = probe.frames[index] as UpdateBatchFrame;
        return `frame #${index + 1} (${frame.updates.length} update${frame.updates.length === 1 ? '' : 's'} from seq ${frame.updates[0]?.seq}, replay_complete ${frame.replay_complete})`;
      });
      seam.push(`seq ${seq} of ${topic} arrived in ${frames.size} different frames on socket ${socket + 1}: ${described.join(' and ')}`);
    }
  }
  return { seam, transportCopies };
}

/** A topic class's limits as /internal/v1/khala/fanout/metrics declares them. */
export type ClassLimits = components['schemas']['KhalaClassPolicy'];

/** The target's declared limits for run_events (boundary checks need them small: a `test` profile). */
export async function runEventsLimits(ctx: CheckContext): Promise<ClassLimits> {
  const r = await ctx.http.request({ method: 'GET', path: '/internal/v1/khala/fanout/metrics' });
  expectThat(r.status === 200, `GET /internal/v1/khala/fanout/metrics: expected 200, got ${r.status}`);
  const limits = (r.json.classes as ClassLimits[]).find((c) => c.topic_class === 'run_events');
  expectThat(limits, 'fan-out metrics list no run_events class');
  return limits;
}

export function requireTestProfile(ctx: CheckContext): void {
  if (ctx.target.profile !== 'test') throw new CheckSkip('boundary check: runs only on a target with profile test (small budgets; a live target is never flooded)');
}

/**
 * Checks that the sequence is exactly first…last, naming the first gap or duplicate.
 * For data that is not a delivery stream (seqs acknowledged to writers, a client's own
 * applied ledger); a delivered stream is judged with expectDelivered.
 */
export function expectExactSequence(label: string, seqs: number[], first: number, last: number): void {
  for (let i = 0; i < seqs.length; i++) {
    const want = first + i;
    if (seqs[i] !== want) {
      const previous = i > 0 ? seqs[i - 1] : first - 1;
      expectThat(false, `${label}: expected seq ${want} after ${previous}, got ${seqs[i]}${seqs[i]! > want ? ` (gap of ${seqs[i]! - want})` : ' (duplicate or out of order)'}`);
    }
  }
  expectThat(seqs.length === last - first + 1, `${label}: expected seqs ${first}…${last} (${last - first + 1}), got ${seqs.length}`);
}
