/**
 * Credit (CEP) API against a real PostgreSQL: every status code the contract documents
 * for the six credit operations except 500/502/503 (credit-breakers and
 * credit-unavailable cover those). Breakers are kept out of the way here with a huge
 * RUNTIME_CREDIT_MIN_SAMPLE, since this file settles envelopes that default.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../reference-server/db/migrate.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { CREDIT, createOffer, hex64, inSeconds, intentBody, offerBody, openEnvelope, settleBody, settleNew } from './credit-fixtures.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const canonicalSha256 = (value: unknown) => sha256(canonicalize(value)!);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: TestDatabase;
let t: TestServer;
beforeAll(async () => {
  db = await createTestDatabase('credit_api', 20);
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db, { RUNTIME_CREDIT_MIN_SAMPLE: '1000000' });
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

/** A body over RUNTIME_HTTP_BODY_LIMIT_BYTES (1 MiB by default). */
function oversize(body: Record<string, unknown>): string {
  return JSON.stringify({ ...body, policy_context: { pad: 'x'.repeat(1_100_000) } });
}

async function expectError(response: { status: number; body: any }, status: number, code: string, reasonCode?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  if (reasonCode) expect(response.body.error.details.reason_code).toBe(reasonCode);
}

describe('POST /internal/v1/credit/intent (createCreditIntent)', () => {
  it('200: records the intent under cepi_ + sha256(agent_id:idempotency_key)[0:24] and normalizes exp', async () => {
    const body = intentBody({ exp: '2999-01-01T02:00:00+02:00', policy_context: { tier: 'a' } });
    const response = await t.api.call('POST', `${CREDIT}/intent`, { body });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      schema: 'openagents.credit.intent_response.v1',
      intent: {
        intent_id: `cepi_${sha256(`${body.agent_id}:${body.idempotency_key}`).slice(0, 24)}`,
        idempotency_key: body.idempotency_key,
        agent_id: body.agent_id,
        scope_type: 'nip90',
        scope_id: 'job-1',
        max_sats: 1000,
        exp: '2999-01-01T00:00:00.000Z',
        created_at: expect.any(String),
      },
    });
  });

  it('200 on replay with the same row (key order and exp spelling do not matter); the key is scoped per agent', async () => {
    const body = intentBody({ policy_context: { a: 1, b: [1, 2] } });
    const first = await t.api.call('POST', `${CREDIT}/intent`, { body });
    const reordered = Object.fromEntries(Object.entries({ ...body, policy_context: { b: [1, 2], a: 1 }, exp: body.exp.replace('Z', '+00:00') }).reverse());
    const replay = await t.api.call('POST', `${CREDIT}/intent`, { body: reordered });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM runtime.credit_intents WHERE agent_id = $1', [body.agent_id]);
    expect(rows[0].n).toBe(1);

    const otherAgent = await t.api.call('POST', `${CREDIT}/intent`, { body: { ...body, agent_id: hex64() } });
    expect(otherAgent.status).toBe(200);
    expect(otherAgent.body.intent.intent_id).not.toBe(first.body.intent.intent_id);
  });

  it('409 when the same agent reuses the idempotency key with drifted fields', async () => {
    const body = intentBody();
    await t.api.call('POST', `${CREDIT}/intent`, { body });
    for (const drift of [{ max_sats: 1001 }, { scope_id: 'job-2' }, { exp: inSeconds(7200) }, { policy_context: { x: 1 } }]) {
      const response = await t.api.call('POST', `${CREDIT}/intent`, { body: { ...body, ...drift } });
      await expectError(response, 409, 'conflict', 'idempotency_key_reused');
    }
  });

  it.each([
    ['a wrong schema constant', { schema: 'openagents.credit.intent_request.v2' }, 'must be equal to constant'],
    ['an agent_id that is not 64 lowercase hex', { agent_id: 'ABC' }, 'must match pattern'],
    ['max_sats below 1', { max_sats: 0 }, 'must be >= 1'],
    ['an unknown field', { extra: true }, 'unknown field extra'],
    ['a scope_type other than nip90', { scope_type: 'other' }, 'must be equal to constant'],
    ['an exp that is not RFC 3339', { exp: 'tomorrow' }, 'must match format'],
  ])('400 invalid_request for %s', async (_name, override, message) => {
    const response = await t.api.call('POST', `${CREDIT}/intent`, { body: intentBody(override) });
    await expectError(response, 400, 'invalid_request');
    expect(JSON.stringify(response.body.error.details.violations)).toContain(message);
  });

  it('400 invalid_request for domain rules: exp in the past, max_sats above the policy cap, a NUL character', async () => {
    await expectError(await t.api.call('POST', `${CREDIT}/intent`, { body: intentBody({ exp: inSeconds(-5) }) }), 400, 'invalid_request', 'intent_expired');
    await expectError(await t.api.call('POST', `${CREDIT}/intent`, { body: intentBody({ max_sats: 100_001 }) }), 400, 'invalid_request', 'max_sats_over_policy');
    await expectError(await t.api.call('POST', `${CREDIT}/intent`, { body: intentBody({ scope_id: 'a\u0000b' }) }), 400, 'invalid_request', 'nul_character');
  });

  it('401 without the internal bearer token; 413 above the body limit', async () => {
    await expectError(await t.api.call('POST', `${CREDIT}/intent`, { body: intentBody(), token: null }), 401, 'unauthorized');
    await expectError(await t.api.call('POST', `${CREDIT}/intent`, { rawBody: oversize(intentBody()), headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
  });
});

describe('POST /internal/v1/credit/offer (createCreditOffer)', () => {
  it('200: offer_id is cepo_ + sha256 of the canonical request fingerprint; a replay answers the same row', async () => {
    const body = offerBody();
    const response = await t.api.call('POST', `${CREDIT}/offer`, { body });
    expect(response.status).toBe(200);
    const { schema: _schema, ...fields } = body;
    const expectedId = `cepo_${canonicalSha256({ ...fields, intent_id: null, exp: new Date(body.exp).toISOString() }).slice(0, 24)}`;
    expect(response.body).toEqual({
      schema: 'openagents.credit.offer_response.v1',
      offer: { ...fields, offer_id: expectedId, intent_id: null, status: 'offered', issued_at: expect.any(String) },
    });
    const replay = await t.api.call('POST', `${CREDIT}/offer`, { body });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(response.body);
  });

  it('200 for an offer answering a matching intent (max_sats up to the intent)', async () => {
    const intent = (await t.api.call('POST', `${CREDIT}/intent`, { body: intentBody({ max_sats: 5000 }) })).body.intent;
    const offer = await createOffer(t.api, { agent_id: intent.agent_id, intent_id: intent.intent_id, max_sats: 4000 });
    expect(offer).toMatchObject({ intent_id: intent.intent_id, agent_id: intent.agent_id, max_sats: 4000, status: 'offered' });
  });

  it('404 for an unknown intent_id', async () => {
    const response = await t.api.call('POST', `${CREDIT}/offer`, { body: offerBody({ intent_id: `cepi_${'0'.repeat(24)}` }) });
    await expectError(response, 404, 'not_found');
  });

  it('409 when the intent does not match (agent, scope, amount) and when the offer is no longer offered', async () => {
    const intent = (await t.api.call('POST', `${CREDIT}/intent`, { body: intentBody({ max_sats: 1000 }) })).body.intent;
    for (const [override, field] of [
      [{ agent_id: hex64() }, 'agent_id'],
      [{ agent_id: intent.agent_id, scope_id: 'job-other' }, 'scope_id'],
      [{ agent_id: intent.agent_id, max_sats: 1001 }, 'max_sats'],
    ] as const) {
      const response = await t.api.call('POST', `${CREDIT}/offer`, { body: offerBody({ intent_id: intent.intent_id, ...override }) });
      await expectError(response, 409, 'conflict', 'intent_mismatch');
      expect(response.body.error.details.fields).toEqual([field]);
    }

    const body = offerBody();
    const offer = await createOffer(t.api, body);
    await t.api.call('POST', `${CREDIT}/envelope`, { body: { schema: 'openagents.credit.envelope_request.v1', offer_id: offer.offer_id, provider_id: hex64() } });
    await expectError(await t.api.call('POST', `${CREDIT}/offer`, { body }), 409, 'conflict', 'offer_consumed');
  });

  it('400 for exp in the past, exp beyond max_offer_ttl_seconds, max_sats above max_sats_per_envelope, and schema violations', async () => {
    await expectError(await t.api.call('POST', `${CREDIT}/offer`, { body: offerBody({ exp: inSeconds(-1) }) }), 400, 'invalid_request', 'offer_expired');
    await expectError(await t.api.call('POST', `${CREDIT}/offer`, { body: offerBody({ exp: inSeconds(86_400 + 120) }) }), 400, 'invalid_request', 'offer_ttl_over_policy');
    await expectError(await t.api.call('POST', `${CREDIT}/offer`, { body: offerBody({ max_sats: 100_001 }) }), 400, 'invalid_request', 'max_sats_over_policy');
    const invalid = await t.api.call('POST', `${CREDIT}/offer`, { body: offerBody({ fee_bps: 100_001, requires_verifier: 'yes' }) });
    await expectError(invalid, 400, 'invalid_request');
    expect(invalid.body.error.details.violations.map((v: { path: string }) => v.path).sort()).toEqual(['$.fee_bps', '$.requires_verifier']);
  });

  it('400 for an offer answering an intent that has expired', async () => {
    const body = intentBody({ exp: inSeconds(1) });
    const intent = (await t.api.call('POST', `${CREDIT}/intent`, { body })).body.intent;
    await sleep(1100);
    const response = await t.api.call('POST', `${CREDIT}/offer`, { body: offerBody({ agent_id: intent.agent_id, intent_id: intent.intent_id }) });
    await expectError(response, 400, 'invalid_request', 'intent_expired');
    // the stored intent still answers its replay
    expect((await t.api.call('POST', `${CREDIT}/intent`, { body })).status).toBe(200);
  });

  it('401 without the token; 413 above the body limit', async () => {
    await expectError(await t.api.call('POST', `${CREDIT}/offer`, { body: offerBody(), token: null }), 401, 'unauthorized');
    await expectError(await t.api.call('POST', `${CREDIT}/offer`, { rawBody: oversize(offerBody()), headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
  });
});

describe('POST /internal/v1/credit/envelope (createCreditEnvelope)', () => {
  const envelopeRequest = (offerId: string, providerId: string) => ({ schema: 'openagents.credit.envelope_request.v1', offer_id: offerId, provider_id: providerId });

  it('200: issues cepe_ + sha256({offer_id, provider_id}) with a verifiable receipt, accepts the offer, and answers a replay with the same row', async () => {
    const { offer, envelope, receipt, providerId } = await openEnvelope(t.api, { max_sats: 2500, fee_bps: 300 });
    expect(envelope).toEqual({
      envelope_id: `cepe_${canonicalSha256({ offer_id: offer.offer_id, provider_id: providerId }).slice(0, 24)}`,
      offer_id: offer.offer_id,
      agent_id: offer.agent_id,
      pool_id: offer.pool_id,
      provider_id: providerId,
      scope_type: 'nip90',
      scope_id: offer.scope_id,
      max_sats: 2500,
      fee_bps: 300,
      exp: offer.exp,
      status: 'issued',
      issued_at: expect.any(String),
    });
    expect(receipt).toMatchObject({ schema: 'openagents.credit.receipt.v1', kind: 'envelope_issued', issued_at: envelope.issued_at });
    expect(receipt.sha256).toBe(canonicalSha256(receipt.body));
    expect(receipt.body).toMatchObject({ envelope_id: envelope.envelope_id, provider_id: providerId, max_sats: 2500 });
    const { rows } = await db.pool.query('SELECT status FROM runtime.credit_offers WHERE offer_id = $1', [offer.offer_id]);
    expect(rows[0].status).toBe('accepted');

    const replay = await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest(offer.offer_id, providerId) });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ schema: 'openagents.credit.envelope_response.v1', envelope, receipt });
  });

  it('404 for an unknown offer', async () => {
    await expectError(await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest(`cepo_${'f'.repeat(24)}`, hex64()) }), 404, 'not_found');
  });

  it('409 for an offer consumed by another provider, and for a revoked offer', async () => {
    const { offer } = await openEnvelope(t.api);
    await expectError(await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest(offer.offer_id, hex64()) }), 409, 'conflict', 'offer_consumed');

    const revoked = await createOffer(t.api);
    // The reference has no revoke operation; an operator (or another implementation) revokes in the database.
    await db.pool.query(`UPDATE runtime.credit_offers SET status = 'revoked' WHERE offer_id = $1`, [revoked.offer_id]);
    const response = await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest(revoked.offer_id, hex64()) });
    await expectError(response, 409, 'conflict', 'offer_not_offered');
    expect(response.body.error.details.status).toBe('revoked');
  });

  it('400 over the per-agent outstanding-envelope cap (3); a settled envelope frees a slot', async () => {
    const agentId = hex64();
    const envelopes = [];
    for (let i = 0; i < 3; i++) envelopes.push((await openEnvelope(t.api, { agent_id: agentId, scope_id: `job-${i}` })).envelope);
    const fourth = await createOffer(t.api, { agent_id: agentId, scope_id: 'job-4' });
    const refused = await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest(fourth.offer_id, hex64()) });
    await expectError(refused, 400, 'invalid_request', 'outstanding_envelopes_over_policy');
    expect(refused.body.error.details).toMatchObject({ open_envelope_count: 3, max_outstanding_envelopes_per_agent: 3 });

    expect((await t.api.call('POST', `${CREDIT}/settle`, { body: settleBody(envelopes[0].envelope_id) })).status).toBe(200);
    expect((await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest(fourth.offer_id, hex64()) })).status).toBe(200);
  });

  it('400 for an expired offer and for schema violations; 401 without the token; 413 above the body limit', async () => {
    const offer = await createOffer(t.api, { exp: inSeconds(1) });
    await sleep(1100);
    await expectError(await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest(offer.offer_id, hex64()) }), 400, 'invalid_request', 'offer_expired');
    await expectError(await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest('cepo_nothex', hex64()) }), 400, 'invalid_request');
    await expectError(await t.api.call('POST', `${CREDIT}/envelope`, { body: envelopeRequest(offer.offer_id, hex64()), token: null }), 401, 'unauthorized');
    await expectError(
      await t.api.call('POST', `${CREDIT}/envelope`, { rawBody: oversize(envelopeRequest(offer.offer_id, hex64())), headers: { 'content-type': 'application/json' } }),
      413,
      'payload_too_large',
    );
  });
});

describe('POST /internal/v1/credit/settle (settleCreditEnvelope)', () => {
  it('200 success: pays the envelope amount, charges fee_bps, writes settlement and receipt together, and a replay answers the stored result', async () => {
    const { envelope } = await openEnvelope(t.api, { max_sats: 3333, fee_bps: 150 });
    const body = settleBody(envelope.envelope_id, { policy_context: { note: 'x' } });
    const response = await t.api.call('POST', `${CREDIT}/settle`, { body });
    expect(response.status).toBe(200);
    const settlementId = `ceps_${canonicalSha256({ envelope_id: envelope.envelope_id }).slice(0, 24)}`;
    expect(response.body).toEqual({
      schema: 'openagents.credit.settle_response.v1',
      envelope_id: envelope.envelope_id,
      settlement_id: settlementId,
      outcome: 'success',
      spent_sats: 3333,
      fee_sats: Math.ceil((3333 * 150) / 10_000),
      verification_receipt_sha256: body.verification_receipt_sha256,
      liquidity_receipt_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      receipt: expect.objectContaining({ kind: 'settlement' }),
    });
    expect(response.body.receipt.sha256).toBe(canonicalSha256(response.body.receipt.body));
    const stored = await db.pool.query(
      `SELECT s.payment_status, s.liquidity_receipt, e.status AS envelope_status, r.sha256
         FROM runtime.credit_settlements s JOIN runtime.credit_envelopes e USING (envelope_id)
         JOIN runtime.credit_receipts r ON r.kind = 'settlement' AND r.subject_id = s.settlement_id
        WHERE s.settlement_id = $1`,
      [settlementId],
    );
    expect(stored.rows[0]).toMatchObject({ payment_status: 'paid', envelope_status: 'settled', sha256: response.body.receipt.sha256 });
    expect(canonicalSha256(stored.rows[0].liquidity_receipt)).toBe(response.body.liquidity_receipt_sha256);

    const replay = await t.api.call('POST', `${CREDIT}/settle`, { body: { ...body, policy_context: { note: 'x' } } });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(response.body);
  });

  it('200 failed when verification did not pass: spent 0, no payment attempted', async () => {
    const settled = await settleNew(t.api, { verification_passed: false });
    expect(settled).toMatchObject({ outcome: 'failed', spent_sats: 0, fee_sats: 0, liquidity_receipt_sha256: null });
    const { rows } = await db.pool.query('SELECT status FROM runtime.credit_envelopes WHERE envelope_id = $1', [settled.envelope_id]);
    expect(rows[0].status).toBe('failed');
  });

  it('200 defaulted when the simulated Lightning node cannot pay an lnfail invoice', async () => {
    const settled = await settleNew(t.api, { provider_invoice: 'lnfail-no-route' });
    expect(settled).toMatchObject({ outcome: 'defaulted', spent_sats: 0, fee_sats: 0, liquidity_receipt_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const { rows } = await db.pool.query(
      `SELECT s.payment_status, s.liquidity_receipt->>'failure_reason' AS reason, e.status FROM runtime.credit_settlements s JOIN runtime.credit_envelopes e USING (envelope_id) WHERE s.envelope_id = $1`,
      [settled.envelope_id],
    );
    expect(rows[0]).toEqual({ payment_status: 'failed', reason: 'no_route', status: 'defaulted' });
  });

  it('200 expired for an envelope past its exp (and nothing is paid)', async () => {
    const { envelope } = await openEnvelope(t.api, { exp: inSeconds(1) });
    await sleep(1100);
    const response = await t.api.call('POST', `${CREDIT}/settle`, { body: settleBody(envelope.envelope_id) });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ outcome: 'expired', spent_sats: 0, fee_sats: 0, liquidity_receipt_sha256: null });
  });

  it('409 for a replay with drifted fields; the stored settlement stands', async () => {
    const settled = await settleNew(t.api);
    for (const drift of [{ provider_invoice: 'lnbc1other' }, { verification_passed: false }, { max_fee_msats: 0 }, { policy_context: { y: 1 } }]) {
      const response = await t.api.call('POST', `${CREDIT}/settle`, { body: settleBody(settled.envelope_id, drift) });
      await expectError(response, 409, 'conflict', 'settlement_request_drift');
      expect(response.body.error.details).toMatchObject({ settlement_id: settled.settlement_id, outcome: 'success' });
    }
  });

  it('404 for an unknown envelope', async () => {
    await expectError(await t.api.call('POST', `${CREDIT}/settle`, { body: settleBody(`cepe_${'0'.repeat(24)}`) }), 404, 'not_found');
  });

  it('400 for schema violations and out-of-range integers; 401 without the token; 413 above the body limit', async () => {
    const envelopeId = `cepe_${'1'.repeat(24)}`;
    const invalid = await t.api.call('POST', `${CREDIT}/settle`, { body: settleBody(envelopeId, { verification_receipt_sha256: 'XYZ', max_fee_msats: -1 }) });
    await expectError(invalid, 400, 'invalid_request');
    expect(invalid.body.error.details.violations.map((v: { path: string }) => v.path).sort()).toEqual(['$.max_fee_msats', '$.verification_receipt_sha256']);
    await expectError(await t.api.call('POST', `${CREDIT}/settle`, { body: settleBody(envelopeId, { max_fee_msats: 2 ** 60 }) }), 400, 'invalid_request', 'integer_out_of_range');
    await expectError(await t.api.call('POST', `${CREDIT}/settle`, { body: settleBody(envelopeId), token: null }), 401, 'unauthorized');
    await expectError(await t.api.call('POST', `${CREDIT}/settle`, { rawBody: oversize(settleBody(envelopeId)), headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
  });
});

describe('GET /internal/v1/credit/health (getCreditHealth) and GET /internal/v1/credit/agents/{agent_id}/exposure (getCreditAgentExposure)', () => {
  it('200 health: open commitments and window counts match the database; the policy shows SPEC §3.4 defaults and env overrides', async () => {
    const response = await t.api.call('GET', `${CREDIT}/health`);
    expect(response.status).toBe(200);
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM runtime.credit_envelopes WHERE status = 'issued' AND exp > now()) AS open,
              (SELECT coalesce(sum(max_sats), 0)::int FROM runtime.credit_envelopes WHERE status = 'issued' AND exp > now()) AS open_sats,
              (SELECT count(*)::int FROM runtime.credit_settlements) AS settled,
              (SELECT count(*)::int FROM runtime.credit_settlements WHERE outcome = 'defaulted') AS losses,
              (SELECT count(*)::int FROM runtime.credit_settlements WHERE payment_status IS NOT NULL) AS ln`,
    );
    const r = rows[0];
    expect(r.losses).toBeGreaterThan(0);
    expect(response.body).toMatchObject({
      schema: 'openagents.credit.health.v1',
      open_envelope_count: r.open,
      open_reserved_commitments_sats: r.open_sats,
      settlement_sample: r.settled,
      loss_count: r.losses,
      loss_rate: r.losses / r.settled,
      ln_pay_sample: r.ln,
      ln_fail_count: r.losses,
      ln_failure_rate: r.losses / r.ln,
      breakers: { halt_new_envelopes: false, halt_large_settlements: false },
      policy: {
        max_sats_per_envelope: 100_000,
        max_outstanding_envelopes_per_agent: 3,
        max_offer_ttl_seconds: 86_400,
        min_sample: 1_000_000,
        loss_rate_halt_threshold: 0.5,
        ln_failure_rate_halt_threshold: 0.5,
        large_settlement_sats: 10_000,
        health_window_seconds: 86_400,
      },
    });
  });

  it('200 exposure with zero counts for an agent without history (never 404)', async () => {
    const agentId = hex64();
    const response = await t.api.call('GET', `${CREDIT}/agents/${agentId}/exposure`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      schema: 'openagents.credit.agent_exposure.v1',
      agent_id: agentId,
      open_envelope_count: 0,
      open_exposure_sats: 0,
      settled_count_30d: 0,
      success_volume_sats_30d: 0,
      pass_rate_30d: 0,
      loss_count_30d: 0,
      underwriting_limit_sats: 1000,
      underwriting_fee_bps: 200,
      requires_verifier: true,
      computed_at: expect.any(String),
    });
  });

  it('200 exposure after activity: open exposure, 30-day history and underwriting terms', async () => {
    const agentId = hex64();
    await settleNew(t.api, {}, { agent_id: agentId, max_sats: 2000, scope_id: 'a' });
    await settleNew(t.api, { provider_invoice: 'lnfail' }, { agent_id: agentId, scope_id: 'b' });
    await settleNew(t.api, { verification_passed: false }, { agent_id: agentId, scope_id: 'c' });
    await openEnvelope(t.api, { agent_id: agentId, max_sats: 700, scope_id: 'd' });
    const response = await t.api.call('GET', `${CREDIT}/agents/${agentId}/exposure`);
    expect(response.body).toMatchObject({
      open_envelope_count: 1,
      open_exposure_sats: 700,
      settled_count_30d: 3,
      success_volume_sats_30d: 2000,
      pass_rate_30d: 2 / 3,
      loss_count_30d: 1,
      // (1000 base + 2000 successful volume) halved for one loss; fee 100 + 500 per loss
      underwriting_limit_sats: 1500,
      underwriting_fee_bps: 600,
      requires_verifier: true,
    });
  });

  it('400 for an agent_id that is not 64 lowercase hex; 401 without the token on both reads', async () => {
    await expectError(await t.api.call('GET', `${CREDIT}/agents/NOT-HEX/exposure`), 400, 'invalid_request');
    await expectError(await t.api.call('GET', `${CREDIT}/agents/${hex64()}/exposure`, { token: null }), 401, 'unauthorized');
    await expectError(await t.api.call('GET', `${CREDIT}/health`, { token: null }), 401, 'unauthorized');
  });
});
