/**
 * The Khala threat model (seed 000 KHALA_WS_THREAT_MODEL) as checks of the khala lane:
 * every pre-upgrade deny reason code, the origin allowlist, per-topic scope and
 * ownership, and session revocation evicting a live socket. Crafted tokens are signed
 * by the harness from the target's signing key, or taken per case from the target
 * config (`khala_threat.tokens`) for targets whose key the harness does not hold.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorFrame } from '../../contracts/generated/khala-frames.ts';
import { khalaFrameValidator } from '../../contracts/khala-frame-schemas.ts';
import { type CheckContext, type CheckDefinition, CheckSkip, expectThat } from '../check-runner.ts';
import { tryUpgrade } from '../khala/khala-probe.ts';
import type { LaneInputs } from './lane.ts';
import { ALL_SCOPES, appendEvents, baseClaims, createRun, expectDelivered, pollPage, resumeOutcome, signClaims, syncToken, waitForSeq, withSockets, wsUrlOf } from './khala-support.ts';

const UNTRUSTED_ORIGIN = 'https://runtime-gate-untrusted-origin.invalid';
const FOUR_HUNDRED_DAYS = 400 * 24 * 3600;

interface DenyCase {
  reason: string;
  /** What the case sends; `undefined` when it needs a token the harness cannot make. */
  headers(ctx: CheckContext): Promise<Record<string, string> | undefined>;
}

/** A crafted token: the one configured for this case, else signed by the harness, else none. */
async function craftedToken(ctx: CheckContext, reason: string, claims: (base: Record<string, unknown>) => Record<string, unknown>): Promise<string | undefined> {
  const configured = ctx.target.khala_threat?.tokens?.[reason];
  if (configured) return configured;
  if (!ctx.target.sync_signing_key) return undefined;
  return signClaims(ctx.target, claims(baseClaims(ctx.target, ctx.probeId)));
}

const bearer = (token: string | undefined) => (token ? { authorization: `Bearer ${token}` } : undefined);
const now = () => Math.floor(Date.now() / 1000);
function without(claims: Record<string, unknown>, name: string): Record<string, unknown> {
  const { [name]: _, ...rest } = claims;
  return rest;
}

/** A token whose session the target has revoked through its own API (when no revoked jti is configured). */
async function revokedSessionToken(ctx: CheckContext): Promise<string | undefined> {
  const configuredJti = ctx.target.khala_threat?.revoked_jti;
  if (configuredJti) return craftedToken(ctx, 'token_revoked', (c) => ({ ...c, jti: configuredJti }));
  const configured = ctx.target.khala_threat?.tokens?.token_revoked;
  if (configured) return configured;
  if (!ctx.run.allowWrites) return undefined;
  const sessionId = `${ctx.probeId}-revoked-${randomUUID().slice(0, 8)}`;
  const token = await syncToken(ctx, ctx.probeId, { session_id: sessionId });
  const r = await ctx.http.request({ method: 'POST', path: '/internal/v1/sync/sessions/revoke', body: { session_ids: [sessionId], reason: 'runtime-gate threat-model probe' } });
  expectThat(r.status === 200, `POST /internal/v1/sync/sessions/revoke: expected 200, got ${r.status}`);
  return token;
}

const DENY_CASES: DenyCase[] = [
  { reason: 'origin_not_allowed', headers: async () => ({ origin: UNTRUSTED_ORIGIN }) },
  { reason: 'missing_authorization', headers: async () => ({}) },
  { reason: 'invalid_authorization_scheme', headers: async () => ({ authorization: 'Basic cnVudGltZS1nYXRlOnByb2Jl' }) },
  { reason: 'invalid_token', headers: async () => ({ authorization: 'Bearer not.a.jwt' }) },
  // A well-formed token signed with a key the target does not have: needs no inputs.
  { reason: 'invalid_token', headers: async (ctx) => bearer(await signClaims(ctx.target, baseClaims(ctx.target, ctx.probeId), `runtime-gate-wrong-key-${randomUUID()}`)) },
  { reason: 'invalid_token', headers: async (ctx) => bearer(await craftedToken(ctx, 'invalid_token', (c) => ({ ...c, iss: 'https://runtime-gate-wrong-issuer.invalid' }))) },
  { reason: 'invalid_token', headers: async (ctx) => bearer(await craftedToken(ctx, 'invalid_token', (c) => ({ ...c, aud: 'runtime-gate-wrong-audience' }))) },
  { reason: 'token_expired', headers: async (ctx) => bearer(await craftedToken(ctx, 'token_expired', (c) => ({ ...c, iat: now() - 900, nbf: now() - 900, exp: now() - 120 }))) },
  { reason: 'token_not_yet_valid', headers: async (ctx) => bearer(await craftedToken(ctx, 'token_not_yet_valid', (c) => ({ ...c, nbf: now() + 600, exp: now() + 1200 }))) },
  { reason: 'missing_jti', headers: async (ctx) => bearer(await craftedToken(ctx, 'missing_jti', (c) => without(c, 'jti'))) },
  { reason: 'missing_iat', headers: async (ctx) => bearer(await craftedToken(ctx, 'missing_iat', (c) => without(c, 'iat'))) },
  { reason: 'token_too_old', headers: async (ctx) => bearer(await craftedToken(ctx, 'token_too_old', (c) => ({ ...c, iat: now() - FOUR_HUNDRED_DAYS, nbf: now() - FOUR_HUNDRED_DAYS }))) },
  { reason: 'token_revoked', headers: async (ctx) => bearer(await revokedSessionToken(ctx)) },
];

function expectDenied(label: string, outcome: { status: number; body: any }, reason: string): void {
  const status = reason === 'origin_not_allowed' ? 403 : 401;
  const code = reason === 'origin_not_allowed' ? 'forbidden' : 'unauthorized';
  expectThat(outcome.status === status, `${label}: upgrade answered ${outcome.status}, expected ${status} ${reason}`);
  const body = outcome.body as { error: { code: string; details: { reason_code: string } } };
  expectThat(khalaFrameValidator('HandshakeDenyResponse')(body), `${label}: the ${outcome.status} body is not a HandshakeDenyResponse: ${JSON.stringify(body).slice(0, 200)}`);
  expectThat(body.error.code === code && body.error.details.reason_code === reason, `${label}: denied with ${body.error.code}/${body.error.details.reason_code}, expected ${code}/${reason}`);
}

const handshakeDenyCodes: CheckDefinition = {
  id: 'khala.threat.handshake-deny-codes',
  lane: 'khala',
  timeoutMs: 60_000,
  description: 'every pre-upgrade deny reason code (origin, missing/invalid authorization, bad token, expired, not yet valid, missing jti/iat, too old, revoked) is a 401/403 error envelope; a valid token upgrades',
  async run(ctx) {
    const url = wsUrlOf(ctx.target);
    const untested: string[] = [];
    const tested: string[] = [];
    for (const [index, denyCase] of DENY_CASES.entries()) {
      const headers = await denyCase.headers(ctx);
      if (!headers) {
        untested.push(denyCase.reason);
        continue;
      }
      const outcome = await tryUpgrade(url, { ...(ctx.target.headers ?? {}), ...headers });
      ctx.log(`deny case ${index} ${denyCase.reason}: ${outcome.status} ${JSON.stringify(outcome.body ?? '').slice(0, 200)}`);
      expectDenied(`case ${index} (${denyCase.reason})`, outcome, denyCase.reason);
      tested.push(denyCase.reason);
    }
    const valid = await tryUpgrade(url, { ...(ctx.target.headers ?? {}), authorization: `Bearer ${await syncToken(ctx, ctx.probeId)}` });
    expectThat(valid.status === 101, `a valid token was refused: ${valid.status} ${JSON.stringify(valid.body ?? '').slice(0, 200)}`);
    // Revoking a session is a write: on a read-only target without a configured revoked jti that case is left out.
    if (!ctx.run.allowWrites && untested.every((reason) => reason === 'token_revoked') && untested.length) {
      return `${tested.length} deny cases answered with their reason codes (${[...new Set(tested)].join(', ')}); a valid token upgrades; token_revoked not tested (writes are off and no khala_threat.revoked_jti is configured)`;
    }
    if (untested.length) throw new CheckSkip(`missing_input:sync_signing_key or khala_threat.tokens for ${[...new Set(untested)].join(', ')} (tested: ${[...new Set(tested)].join(', ')})`);
    return `${tested.length} deny cases answered with their reason codes (${[...new Set(tested)].join(', ')}); a valid token upgrades`;
  },
};

const originAllowlist: CheckDefinition = {
  id: 'khala.threat.origin-allowlist',
  lane: 'khala',
  timeoutMs: 30_000,
  description: 'an untrusted Origin is refused 403 origin_not_allowed even with a valid token; no Origin (native client) and an allowed Origin upgrade',
  async run(ctx) {
    const url = wsUrlOf(ctx.target);
    const auth = { ...(ctx.target.headers ?? {}), authorization: `Bearer ${await syncToken(ctx, ctx.probeId)}` };
    expectDenied('untrusted Origin with a valid token', await tryUpgrade(url, { ...auth, origin: UNTRUSTED_ORIGIN }), 'origin_not_allowed');
    const native = await tryUpgrade(url, auth);
    expectThat(native.status === 101, `no Origin with a valid token: ${native.status}, expected 101`);
    const allowed = ctx.target.khala_threat?.allowed_origin;
    if (allowed) {
      const browser = await tryUpgrade(url, { ...auth, origin: allowed });
      expectThat(browser.status === 101, `allowed Origin ${allowed}: ${browser.status} ${JSON.stringify(browser.body ?? '').slice(0, 200)}, expected 101`);
    }
    return `untrusted Origin → 403 origin_not_allowed; no Origin → 101${allowed ? `; ${allowed} → 101` : ' (no khala_threat.allowed_origin configured to test an allowed one)'}`;
  },
};

function expectForbidden(frame: ErrorFrame | undefined, topic: string, reason: string): void {
  expectThat(frame, `no error frame for ${topic} (expected forbidden_topic ${reason})`);
  expectThat(frame.code === 'forbidden_topic' && frame.topic === topic && frame.details?.reason_code === reason, `${topic}: expected forbidden_topic ${reason}, got ${JSON.stringify(frame).slice(0, 300)}`);
}

const scopeAndOwnership: CheckDefinition = {
  id: 'khala.threat.scope-and-ownership',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 30_000,
  description: 'a run topic without runtime.run_events is forbidden_topic missing_scope, another owner’s run is not_owner (WS and HTTP poll 403); the socket keeps serving its other topics',
  async run(ctx) {
    const mine = await createRun(ctx);
    const other = `${ctx.probeId}-other-owner`;
    const theirs = await createRun(ctx, other);
    await appendEvents(ctx, mine.runId, 2, 'threat-mine');
    await appendEvents(ctx, theirs.runId, 2, 'threat-theirs');
    const readOnly = await syncToken(ctx, ctx.probeId, { scopes: ['runtime.read'] });
    const otherToken = await syncToken(ctx, other, { scopes: ALL_SCOPES });
    await withSockets(ctx, async (scope) => {
      // Missing scope: the run topic is refused, a fallback topic the scope allows is served.
      const fallbackTopic = `runtime-gate.probe.${ctx.probeId}`;
      const scoped = await scope.probe(readOnly);
      scoped.send({ type: 'subscribe', request_id: 'scope', topics: [mine.topic, fallbackTopic] });
      expectForbidden((await resumeOutcome(scoped, mine.topic, 3000).catch(() => undefined)) as ErrorFrame | undefined, mine.topic, 'missing_scope');
      const subscribed = await scoped.waitFor((f) => f.type === 'subscribed');
      expectThat(subscribed.type === 'subscribed' && fallbackTopic in subscribed.topics && !(mine.topic in subscribed.topics), `subscribed should list only ${fallbackTopic}: ${JSON.stringify(subscribed).slice(0, 300)}`);
      // Not the owner: their run is refused, the caller's own run still replays on the same socket.
      const owner = await scope.probe(otherToken);
      owner.send({ type: 'subscribe', request_id: 'owner', topics: [mine.topic, theirs.topic], resume_after: { [mine.topic]: { seq: 0 }, [theirs.topic]: { seq: 0 } } });
      expectForbidden((await resumeOutcome(owner, mine.topic, 3000).catch(() => undefined)) as ErrorFrame | undefined, mine.topic, 'not_owner');
      await waitForSeq(owner, theirs.topic, 2);
      expectDelivered('the owner’s own run on the socket that was refused the other one', owner, theirs.topic, 1, 2);
      expectThat(owner.seqs(mine.topic).length === 0, `a forbidden topic delivered updates [${owner.seqs(mine.topic).join(',')}]`);
    });
    for (const [label, token, reason] of [['missing scope', readOnly, 'missing_scope'], ['not the owner', otherToken, 'not_owner']] as const) {
      const r = await pollPage(ctx, mine.topic, token, 0);
      expectThat(r.status === 403 && r.json?.error?.details?.reason_code === reason, `HTTP poll, ${label}: expected 403 ${reason}, got ${r.status} ${JSON.stringify(r.json?.error ?? '').slice(0, 200)}`);
    }
    return 'missing_scope and not_owner refused per topic on WS (other topics served on the same socket) and with 403 on HTTP poll';
  },
};

const sessionRevocation: CheckDefinition = {
  id: 'khala.threat.session-revocation',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 30_000,
  description: 'revoking a session sends session_revoked and closes its live socket with 4001 at once; the same token is then refused token_revoked',
  async run(ctx) {
    const sessionId = `${ctx.probeId}-session-${randomUUID().slice(0, 8)}`;
    const token = await syncToken(ctx, ctx.probeId, { session_id: sessionId });
    const { topic } = await createRun(ctx);
    return withSockets(ctx, async (scope) => {
      const probe = await scope.probe(token);
      probe.send({ type: 'subscribe', request_id: 'revoke', topics: [topic] });
      await probe.waitFor((f) => f.type === 'subscribed');
      const revokedAt = performance.now();
      const r = await ctx.http.request({ method: 'POST', path: '/internal/v1/sync/sessions/revoke', body: { session_ids: [sessionId], reason: 'runtime-gate threat-model probe' } });
      expectThat(r.status === 200, `POST /internal/v1/sync/sessions/revoke: expected 200, got ${r.status}`);
      const error = await probe.waitFor<ErrorFrame>((f) => f.type === 'error' && f.code === 'session_revoked', 2000).catch(() => undefined);
      expectThat(error, `no session_revoked error frame within 2 s of the revocation (frames: ${JSON.stringify(probe.frames.slice(-3)).slice(0, 300)})`);
      const code = await probe.waitClosed(2000).catch(() => undefined);
      expectThat(code === 4001, `the revoked socket closed with ${code ?? 'nothing within 2 s'}, expected 4001`);
      const evictedMs = Math.round(performance.now() - revokedAt);
      expectDenied('a new upgrade with the revoked session’s token', await tryUpgrade(wsUrlOf(ctx.target), { ...(ctx.target.headers ?? {}), authorization: `Bearer ${token}` }), 'token_revoked');
      return `session revoked: session_revoked + close 4001 after ${evictedMs} ms (API reported ${r.json?.evicted_connections} evicted); the token is then denied token_revoked`;
    });
  },
};

export function khalaThreatChecks(_inputs: LaneInputs): CheckDefinition[] {
  return [handshakeDenyCodes, originAllowlist, scopeAndOwnership, sessionRevocation];
}
