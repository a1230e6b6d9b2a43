/**
 * Shared plumbing of the khala lanes: sync tokens (signed by the harness from the
 * target's signing key, or minted by the target), ws URLs, runs with events, and the
 * target's class budgets from /internal/v1/khala/fanout/metrics.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { type CheckContext, CheckSkip, expectThat } from '../check-runner.ts';
import type { TargetSpec } from '../target.ts';

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

export async function appendEvents(ctx: CheckContext, runId: string, count: number, label = 'e', http = ctx.http): Promise<AppendedEvent[]> {
  const events: AppendedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const r = await http.request({ method: 'POST', path: `/internal/v1/runs/${runId}/events`, body: { event_type: 'runtime_gate.probe', idempotency_key: `${ctx.probeId}-${label}-${i}`, payload: { probe: ctx.probeId, label, i } } });
    expectThat(r.status === 200, `POST /internal/v1/runs/${runId}/events #${i}: expected 200, got ${r.status}`);
    events.push({ seq: r.json.event.seq, payload_hash: r.json.event.payload_hash });
  }
  return events;
}

export async function pollAll(ctx: CheckContext, topic: string, token: string, pageSize = 100): Promise<{ seq: number; payload_hash: string }[]> {
  const ledger: { seq: number; payload_hash: string }[] = [];
  for (let cursor = 0, pages = 0; pages < 10_000; pages++) {
    const r = await ctx.http.request({ method: 'GET', path: `/internal/v1/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=${cursor}&limit=${pageSize}`, auth: { bearer: token } });
    expectThat(r.status === 200, `poll ${topic} after ${cursor}: expected 200, got ${r.status}`);
    ledger.push(...(r.json.messages as { seq: number; payload_hash: string }[]).map((m) => ({ seq: m.seq, payload_hash: m.payload_hash })));
    if (r.json.replay_complete || r.json.messages.length === 0) break;
    cursor = r.json.next_cursor;
  }
  return ledger;
}

export interface ClassLimits {
  replay_budget_events: number;
  retention_events: number;
  max_payload_bytes: number;
  publish_rate_per_second: number;
}

/** The target's declared limits for run_events (boundary checks need them small: a `test` profile). */
export async function runEventsLimits(ctx: CheckContext): Promise<ClassLimits> {
  const r = await ctx.http.request({ method: 'GET', path: '/internal/v1/khala/fanout/metrics' });
  expectThat(r.status === 200, `GET /internal/v1/khala/fanout/metrics: expected 200, got ${r.status}`);
  const limits = (r.json.classes as (ClassLimits & { topic_class: string })[]).find((c) => c.topic_class === 'run_events');
  expectThat(limits, 'fan-out metrics list no run_events class');
  return limits;
}

export function requireTestProfile(ctx: CheckContext): void {
  if (ctx.target.profile !== 'test') throw new CheckSkip('boundary check: runs only on a target with profile test (small budgets; a live target is never flooded)');
}

/** Checks that the sequence is exactly first…last, naming the first gap or duplicate. */
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
