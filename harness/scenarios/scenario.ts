/**
 * The seeded parity scenarios (SPEC §4 "parity"): each runs identically on the baseline
 * and the candidate — same seed, same inputs, same time base — and records every answer
 * it gets into an ObservationRecorder. A scenario never asserts: it records, and stops
 * (with a recorded `abort` observation) only when a later step cannot be made without an
 * earlier answer. The comparator decides what differs.
 */
import type { CheckContext } from '../check-runner.ts';
import { KhalaClient, type KhalaClientOptions, KhalaHandshakeError } from '../khala/khala-client.ts';
import { syncToken, wsUrlOf } from '../lanes/khala-support.ts';
import type { LedgerEntry } from '../parity/compare-ledgers.ts';
import type { ObservationRecorder } from '../parity/observation-recorder.ts';
import type { SeededRandom } from '../parity/seeded-random.ts';
import type { TargetSpec } from '../target.ts';
import { type HttpRequest, type HttpResponse, TargetRequestError } from '../target-http.ts';

export type ParityRole = 'baseline' | 'candidate';

/** Inputs fixed once per scenario and shared by both sides. */
export interface ScenarioInputs {
  seed: number;
  /** Owner and idempotency-key prefix of every write (SPEC §4 safety). */
  probeId: string;
  /** Time base for request fields such as `exp` (ms since epoch), equal on both sides. */
  now: number;
}

/** One side of a scenario run: a target's context, its recorder and its (identically seeded) PRNG. */
export interface ScenarioSide {
  role: ParityRole;
  ctx: CheckContext;
  rec: ObservationRecorder;
  random: SeededRandom;
  inputs: ScenarioInputs;
}

export interface ScenarioTargets {
  baseline: TargetSpec;
  candidate: TargetSpec;
}

/** What a scenario may need to know before it runs on two targets. */
export interface ScenarioEnvironment {
  targets: ScenarioTargets;
  /** `payment_backend` each target declares in /internal/v1/health. */
  paymentBackends: { baseline: string | null; candidate: string | null };
  /** --allow-payments */
  allowPayments: boolean;
}

export interface ParityScenario {
  /** kebab-case; the check id is `parity.scenario.<name>`. */
  name: string;
  description: string;
  /** Whether the check is optional by default on these targets (e.g. boundary scenarios on live targets). */
  optional?(targets: ScenarioTargets): boolean;
  /** A reason to skip on these targets, or undefined to run. */
  skipReason?(environment: ScenarioEnvironment): string | undefined;
  run(side: ScenarioSide): Promise<void>;
}

/** Stops a scenario: a later step needs an answer this target did not give. */
export class ScenarioAbort extends Error {
  override readonly name = 'ScenarioAbort';
}

/** Makes a request and records the answer under `step`; a transport failure is recorded as `no_answer`. */
export async function call(side: ScenarioSide, step: string, request: HttpRequest): Promise<HttpResponse | undefined> {
  try {
    const response = await side.ctx.http.request(request);
    side.rec.http(step, request.method, request.path, { status: response.status, body: response.json ?? response.text });
    return response;
  } catch (error) {
    if (!(error instanceof TargetRequestError)) throw error;
    side.rec.http(step, request.method, request.path, { error: 'no_answer' });
    return undefined;
  }
}

/** Continues only when `condition` holds; otherwise the scenario stops at `step`. */
export function need(condition: unknown, step: string): asserts condition {
  if (!condition) throw new ScenarioAbort(`${step}: the answer lacks what the next steps need`);
}

export const INTERNAL = '/internal/v1';

/** The event body of append #i (seeded content, identical on both sides). */
export function seededEvent(side: ScenarioSide, label: string, i: number): { event_type: string; idempotency_key: string; payload: Record<string, unknown> } {
  const { random, inputs } = side;
  return {
    event_type: random.pick(['run.step', 'run.log', 'run.tool_call', 'run.output']),
    idempotency_key: `${inputs.probeId}-${label}-${i}`,
    payload: { probe: inputs.probeId, label, i, value: random.int(0, 1_000_000), text: random.pick(['alpha', 'beta', 'gamma', 'δέλτα', '🚀 launch', '']), ok: random.next() < 0.5 },
  };
}

/** Creates a run owned by the probe; aborts the scenario without a run id. */
export async function createRun(side: ScenarioSide, step = 'create run'): Promise<{ runId: string; topic: string }> {
  const r = await call(side, step, { method: 'POST', path: `${INTERNAL}/runs`, body: { thread_id: `${side.inputs.probeId}-thread`, metadata: { harness: 'runtime-gate', lane: 'parity' } }, headers: { 'x-oa-user-id': side.inputs.probeId } });
  const runId = r?.json?.run?.id;
  need(typeof runId === 'string', step);
  return { runId, topic: `run:${runId}:events` };
}

export type AppendBody = ReturnType<typeof seededEvent>;

/** Appends seeded events #from..#to-1; returns the last seq the target reported and the bodies sent. */
export async function appendSeeded(side: ScenarioSide, runId: string, label: string, from: number, to: number): Promise<{ last: number; bodies: AppendBody[] }> {
  let last = 0;
  const bodies: AppendBody[] = [];
  for (let i = from; i < to; i++) {
    const body = seededEvent(side, label, i);
    bodies.push(body);
    const r = await call(side, `append ${label}#${i}`, { method: 'POST', path: `${INTERNAL}/runs/${runId}/events`, body });
    if (typeof r?.json?.event?.seq === 'number') last = r.json.event.seq;
  }
  return { last, bodies };
}

/** The head seq the target reports for a run (GET run → latest_seq). */
export async function readRun(side: ScenarioSide, runId: string, step: string): Promise<number | undefined> {
  const r = await call(side, step, { method: 'GET', path: `${INTERNAL}/runs/${runId}` });
  const seq = r?.json?.run?.latest_seq;
  return typeof seq === 'number' ? seq : undefined;
}

/** Anomaly kinds that do not depend on timing, so they can be compared between targets. */
const COMPARABLE_ANOMALIES = new Set(['hash_mismatch', 'hash_changed', 'invalid_frame', 'unexpected_topic', 'rejected_topic', 'error_frame']);

export interface ConsumeOptions {
  topic: string;
  /** Token subject (must own a run topic). */
  owner: string;
  /** Resume after this seq (0 = from the beginning). */
  initialCursor: number;
  /** Another ws URL (e.g. a fault proxy in front of the target). */
  url?: string;
  /** Record the first `subscribed` frame (only where its content is deterministic). */
  recordSubscribed?: boolean;
  reconnect?: KhalaClientOptions['reconnect'];
}

/**
 * A Khala consumer (the harness's K2 client) whose observations — subscribed and error
 * frames, every applied update, and the timing-independent anomalies — are buffered and
 * appended to the ledger only by `finish`, so they never interleave nondeterministically
 * with the scenario's HTTP observations.
 */
export class ScenarioConsumer {
  private readonly buffer: LedgerEntry[] = [];
  private client: KhalaClient | undefined;
  private startError: string | undefined;

  private constructor(
    private readonly side: ScenarioSide,
    private readonly step: string,
    private readonly options: ConsumeOptions,
  ) {}

  /** Connects and subscribes; a refused upgrade or socket failure is recorded, not thrown. */
  static async open(side: ScenarioSide, step: string, options: ConsumeOptions): Promise<ScenarioConsumer> {
    const consumer = new ScenarioConsumer(side, step, options);
    await consumer.start();
    return consumer;
  }

  private push(key: string, value: unknown): void {
    this.buffer.push({ component: 'khala', key: `${this.step}: ${key}`, value: this.side.rec.normalizer.normalize(value) });
  }

  private async start(): Promise<void> {
    const { side, options } = this;
    const client = new KhalaClient({
      url: options.url ?? wsUrlOf(side.ctx.target),
      token: () => syncToken(side.ctx, options.owner),
      topics: [options.topic],
      initialCursor: options.initialCursor,
      ...(side.ctx.target.headers ? { headers: side.ctx.target.headers } : {}),
      reconnect: options.reconnect ?? { initialDelayMs: 20, maxDelayMs: 250, maxAttempts: 20 },
      gapTimeoutMs: 500,
      onApply: (update) => this.push('update', update),
    });
    // Only the first `subscribed` is compared: later ones answer the client's own resubscribes
    // (gap timer, rebootstrap), whose number depends on timing.
    let subscribedSeen = false;
    client.recordFrames = true;
    client.on('frame', (frame: { type: string; [key: string]: unknown }) => {
      if (frame.type === 'subscribed' && options.recordSubscribed && !subscribedSeen) this.push('subscribed', { heartbeat_ms: frame.heartbeat_ms, topics: frame.topics });
      if (frame.type === 'subscribed') subscribedSeen = true;
      if (frame.type === 'error') this.push(`error ${String(frame.code)}`, { code: frame.code, message: frame.message, topic: frame.topic ?? null, details: frame.details });
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.startError = error instanceof KhalaHandshakeError ? `handshake_${error.status}` : 'connect_failed';
      side.ctx.log(`${this.step}: ${(error as Error).message}`);
      await client.close();
    }
  }

  get lastApplied(): number {
    return this.client?.lastApplied(this.options.topic) ?? 0;
  }

  /** Resolves once `predicate` holds for a frame (e.g. an error), or after timeoutMs. */
  async waitForFrame(predicate: (frame: { type: string; [key: string]: unknown }) => boolean, timeoutMs = 3000): Promise<boolean> {
    const client = this.client;
    if (!client || this.startError) return false;
    if (client.frames.some((f) => predicate(f as never))) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        client.off('frame', listener);
        resolve(false);
      }, timeoutMs);
      const listener = (frame: { type: string }) => {
        if (predicate(frame as never)) {
          clearTimeout(timer);
          client.off('frame', listener);
          resolve(true);
        }
      };
      client.on('frame', listener);
    });
  }

  /**
   * Waits until `untilSeq` is applied (or timeoutMs), closes, and appends the buffered
   * observations to the ledger, then one summary observation: how the consumption ended
   * and which timing-independent anomalies the client saw.
   */
  async finish(untilSeq: number | undefined, timeoutMs = 5000): Promise<void> {
    let outcome = this.startError ?? 'complete';
    const client = this.client;
    if (client && !this.startError) {
      if (untilSeq !== undefined && untilSeq > 0) {
        try {
          await client.waitForSeq(this.options.topic, untilSeq, timeoutMs);
        } catch {
          outcome = 'incomplete';
          this.side.ctx.log(`${this.step}: seq ${untilSeq} not applied within ${timeoutMs} ms (last applied ${client.lastApplied(this.options.topic)})`);
        }
      }
      await client.close();
    }
    const anomalies: Record<string, number> = {};
    for (const anomaly of client?.anomalies ?? []) if (COMPARABLE_ANOMALIES.has(anomaly.kind)) anomalies[anomaly.kind] = (anomalies[anomaly.kind] ?? 0) + 1;
    for (const anomaly of client?.anomalies ?? []) if (COMPARABLE_ANOMALIES.has(anomaly.kind)) this.side.ctx.log(`${this.step}: anomaly ${anomaly.kind}: ${anomaly.detail}`);
    this.side.rec.append(this.buffer);
    this.side.rec.record('khala', `${this.step}: end`, { outcome, last_applied_seq: client?.lastApplied(this.options.topic) ?? 0, anomalies });
  }
}

/** Opens a consumer, waits for `untilSeq` and appends its observations. */
export async function consume(side: ScenarioSide, step: string, options: ConsumeOptions & { untilSeq: number | undefined }): Promise<void> {
  const consumer = await ScenarioConsumer.open(side, step, options);
  await consumer.finish(options.untilSeq);
}

/** Parses an SSE body into its frames (`id`, `event`, JSON `data`). */
export function parseSse(text: string): { id: string | null; event: string | null; data: unknown }[] {
  const frames: { id: string | null; event: string | null; data: unknown }[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let id: string | null = null;
    let event: string | null = null;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':') || line === '') continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (id === null && event === null && data.length === 0) continue;
    const joined = data.join('\n');
    let parsed: unknown = joined;
    try {
      parsed = JSON.parse(joined);
    } catch {
      // not JSON: compared as text
    }
    frames.push({ id, event, data: parsed });
  }
  return frames;
}

/** Reads an SSE stream (it closes at the head without tail_ms) and records its frames. */
export async function readSse(side: ScenarioSide, step: string, path: string): Promise<void> {
  try {
    const r = await side.ctx.http.request({ method: 'GET', path, headers: { accept: 'text/event-stream' } });
    side.rec.http(step, 'GET', path, { status: r.status, body: r.status === 200 ? parseSse(r.text) : (r.json ?? r.text) });
  } catch (error) {
    if (!(error instanceof TargetRequestError)) throw error;
    side.rec.http(step, 'GET', path, { error: 'no_answer' });
  }
}
