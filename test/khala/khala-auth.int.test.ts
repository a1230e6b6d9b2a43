/**
 * Auth before upgrade (SPEC §2.2): every deny reason code as an HTTP error envelope,
 * origin allowlist, per-topic scope and ownership, and session revocation.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../reference-server/db/migrate.ts';
import { baseClaims, createRunWithEvents, FrameProbe, mintToken, signClaims, tryUpgrade, wsUrl } from '../support/khala-fixtures.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

let db: TestDatabase;
let t: TestServer;
const REVOKED_JTI = 'revoked-jti-1';
beforeAll(async () => {
  db = await createTestDatabase('khala_auth');
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db, { RUNTIME_SYNC_REVOKED_JTIS: REVOKED_JTI, RUNTIME_SYNC_TOKEN_MAX_AGE_SECONDS: '3600' });
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('upgrade denials', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, (t: TestServer) => Promise<Record<string, string>>, number, string][] = [
    ['missing_authorization', async () => ({}), 401, 'missing_authorization'],
    ['invalid_authorization_scheme', async () => ({ authorization: 'Basic abc' }), 401, 'invalid_authorization_scheme'],
    ['malformed token', async () => ({ authorization: 'Bearer not.a.jwt' }), 401, 'invalid_token'],
    ['bad signature', async (t) => ({ authorization: `Bearer ${await signClaims(t, baseClaims(t), 'another-key-another-key-another-key!')}` }), 401, 'invalid_token'],
    ['wrong issuer', async (t) => ({ authorization: `Bearer ${await signClaims(t, { ...baseClaims(t), iss: 'https://evil.example' })}` }), 401, 'invalid_token'],
    ['wrong audience', async (t) => ({ authorization: `Bearer ${await signClaims(t, { ...baseClaims(t), aud: 'other' })}` }), 401, 'invalid_token'],
    ['expired (beyond the 30 s tolerance)', async (t) => ({ authorization: `Bearer ${await signClaims(t, { ...baseClaims(t), exp: now() - 31 })}` }), 401, 'token_expired'],
    ['not yet valid', async (t) => ({ authorization: `Bearer ${await signClaims(t, { ...baseClaims(t), nbf: now() + 120 })}` }), 401, 'token_not_yet_valid'],
    ['missing jti', async (t) => { const { jti: _j, ...claims } = baseClaims(t); return { authorization: `Bearer ${await signClaims(t, claims)}` }; }, 401, 'missing_jti'],
    ['missing iat', async (t) => { const { iat: _i, ...claims } = baseClaims(t); return { authorization: `Bearer ${await signClaims(t, claims)}` }; }, 401, 'missing_iat'],
    ['iat older than the max age', async (t) => ({ authorization: `Bearer ${await signClaims(t, { ...baseClaims(t), iat: now() - 3700 })}` }), 401, 'token_too_old'],
    ['revoked jti', async (t) => ({ authorization: `Bearer ${await signClaims(t, { ...baseClaims(t), jti: REVOKED_JTI })}` }), 401, 'token_revoked'],
    ['untrusted origin', async (t) => ({ authorization: `Bearer ${await mintToken(t, 'user-1')}`, origin: 'https://evil.example' }), 403, 'origin_not_allowed'],
  ];
  it.each(cases)('%s → HTTP %s before the upgrade', async (_name, headers, status, reason) => {
    const result = await tryUpgrade(wsUrl(t), await headers(t));
    expect(result.status).toBe(status);
    expect(result.body.error.code).toBe(status === 403 ? 'forbidden' : 'unauthorized');
    expect(result.body.error.details.reason_code).toBe(reason);
  });

  it('checks the origin before the token, and reports the first failing check only', async () => {
    const result = await tryUpgrade(wsUrl(t), { origin: 'https://evil.example' });
    expect(result.body.error.details.reason_code).toBe('origin_not_allowed');
    const expiredAndWrongAudience = await signClaims(t, { ...baseClaims(t), aud: 'other', exp: Math.floor(Date.now() / 1000) - 100 });
    expect((await tryUpgrade(wsUrl(t), { authorization: `Bearer ${expiredAndWrongAudience}` })).body.error.details.reason_code).toBe('invalid_token');
  });

  it('accepts an allowed origin (normalized), a missing origin, and the access_token query parameter', async () => {
    const token = await mintToken(t, 'user-1');
    expect((await tryUpgrade(wsUrl(t), { authorization: `Bearer ${token}`, origin: 'HTTPS://OpenAgents.com/' })).status).toBe(101);
    expect((await tryUpgrade(wsUrl(t), { authorization: `Bearer ${token}` })).status).toBe(101);
    expect((await tryUpgrade(`${wsUrl(t)}?access_token=${token}`, {})).status).toBe(101);
  });
});

describe('per-topic authorization', () => {
  it('denies a topic without its scope or of another owner with forbidden_topic, and keeps serving the other topics', async () => {
    const mine = await createRunWithEvents(t, 'alice', 2);
    const theirs = await createRunWithEvents(t, 'bob', 2);
    const token = await mintToken(t, 'alice', { scopes: ['runtime.run_events'] });
    const probe = await FrameProbe.open(wsUrl(t), token);
    try {
      probe.send({ type: 'subscribe', request_id: 'r1', topics: [theirs.topic, 'runtime.codex_worker_events', mine.topic], resume_after: { [mine.topic]: { seq: 0 }, [theirs.topic]: { seq: 0 } } });
      const subscribed = await probe.waitFor((f) => f.type === 'subscribed');
      expect(probe.frames[0]).toBe(subscribed);
      expect(Object.keys((subscribed as any).topics)).toEqual([mine.topic]);
      const notOwner = await probe.waitFor((f) => f.type === 'error' && f.topic === theirs.topic);
      expect(notOwner).toMatchObject({ code: 'forbidden_topic', request_id: 'r1', details: { reason_code: 'not_owner' } });
      const noScope = await probe.waitFor((f) => f.type === 'error' && f.topic === 'runtime.codex_worker_events');
      expect(noScope).toMatchObject({ code: 'forbidden_topic', details: { reason_code: 'missing_scope' } });
      await probe.waitFor((f) => f.type === 'update_batch' && f.replay_complete);
      expect(probe.seqs(mine.topic)).toEqual([1, 2]);
      expect(probe.seqs(theirs.topic)).toEqual([]);
    } finally {
      probe.close();
    }
  });

  it('answers the HTTP poll with 403 for another owner and 401 with the reason code for a bad token', async () => {
    const theirs = await createRunWithEvents(t, 'bob', 1);
    const token = await mintToken(t, 'alice');
    const forbidden = await t.api.call('GET', `/internal/v1/khala/topics/${encodeURIComponent(theirs.topic)}/messages`, { token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.details.reason_code).toBe('not_owner');
    const expired = await signClaims(t, { ...baseClaims(t, 'alice'), exp: Math.floor(Date.now() / 1000) - 100 });
    const unauthorized = await t.api.call('GET', `/internal/v1/khala/topics/${encodeURIComponent(theirs.topic)}/messages`, { token: expired });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.body.error.details.reason_code).toBe('token_expired');
  });
});

describe('session revocation', () => {
  it('evicts live sockets of the session at once (session_revoked, close 4001) and denies the token afterwards', async () => {
    const session = `sess-${randomUUID()}`;
    const token = await mintToken(t, 'alice', { session_id: session });
    const other = await mintToken(t, 'alice', { session_id: `other-${randomUUID()}` });
    const victim = await FrameProbe.open(wsUrl(t), token);
    const bystander = await FrameProbe.open(wsUrl(t), other);
    try {
      const revoked = await t.api.call('POST', '/internal/v1/sync/sessions/revoke', { body: { session_ids: [session], reason: 'test' } });
      expect(revoked.body).toEqual({ revoked_session_ids: [session], revoked_device_ids: [], evicted_connections: 1 });
      const error = await victim.waitFor((f) => f.type === 'error');
      expect(error).toMatchObject({ code: 'session_revoked' });
      expect(await victim.waitClosed()).toBe(4001);
      const again = await tryUpgrade(wsUrl(t), { authorization: `Bearer ${token}` });
      expect(again.body.error.details.reason_code).toBe('token_revoked');
      bystander.send({ type: 'ping', request_id: 'still-here' });
      await bystander.waitFor((f) => f.type === 'pong');
    } finally {
      victim.close();
      bystander.close();
    }
  });

  it('revokes by device id too', async () => {
    const device = `dev-${randomUUID()}`;
    const token = await mintToken(t, 'alice', { device_id: device });
    const probe = await FrameProbe.open(wsUrl(t), token);
    await t.api.call('POST', '/internal/v1/sync/sessions/revoke', { body: { device_ids: [device], reason: 'lost phone' } });
    expect(await probe.waitClosed()).toBe(4001);
  });
});
