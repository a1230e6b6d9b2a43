/**
 * The two credit circuit breakers (SPEC §3.4), tripped honestly: real settlements through
 * the simulated Lightning node (invoices starting `lnfail` fail to pay → `defaulted`) and
 * verification failures, with a small RUNTIME_CREDIT_MIN_SAMPLE. Breakers are global to a
 * database, so this file has its own and runs its phases in order.
 *
 *   loss rate        = defaulted / settlements in the window   → halt_new_envelopes
 *   LN failure rate  = failed payments / payment attempts      → halt_large_settlements
 *   (each only once its sample ≥ min_sample)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { CreditStore } from '../../reference-server/credit/credit-store.ts';
import { SimulatedLightningBackend } from '../../reference-server/credit/payment-backend.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { CREDIT, createOffer, hex64, openEnvelope, settleBody } from './credit-fixtures.ts';

let db: TestDatabase;
let t: TestServer;
beforeAll(async () => {
  db = await createTestDatabase('credit_breakers', 20);
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db, {
    RUNTIME_CREDIT_MIN_SAMPLE: '4',
    RUNTIME_CREDIT_LARGE_SETTLEMENT_SATS: '5000',
    RUNTIME_CREDIT_MAX_SATS_PER_ENVELOPE: '50000',
  });
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

async function health() {
  const response = await t.api.call('GET', `${CREDIT}/health`);
  expect(response.status).toBe(200);
  return response.body;
}

async function settle(envelopeId: string, overrides: Record<string, unknown> = {}) {
  return t.api.call('POST', `${CREDIT}/settle`, { body: settleBody(envelopeId, overrides) });
}

/** Opens n envelopes (each for its own agent, so no outstanding cap applies). */
async function envelopes(n: number, offerOverrides: Record<string, unknown> = {}) {
  const opened = [];
  for (let i = 0; i < n; i++) opened.push((await openEnvelope(t.api, { agent_id: hex64(), ...offerOverrides })).envelope.envelope_id as string);
  return opened;
}

async function settleAll(ids: string[], overrides: Record<string, unknown>, outcome: string) {
  for (const id of ids) {
    const response = await settle(id, overrides);
    expect(response.status, response.text).toBe(200);
    expect(response.body.outcome).toBe(outcome);
  }
}

describe('credit circuit breakers', () => {
  // Envelopes used once the breakers hold are opened while they do not.
  let large: string;
  let largeUnverified: string;
  let small: string;
  let replayable: { offerId: string; providerId: string; body: unknown };
  let laterOffer: string;

  it('shows the env-overridden policy, and holds no breaker on an empty window', async () => {
    const body = await health();
    expect(body.policy).toEqual({
      max_sats_per_envelope: 50_000,
      max_outstanding_envelopes_per_agent: 3,
      max_offer_ttl_seconds: 86_400,
      min_sample: 4,
      loss_rate_halt_threshold: 0.5,
      ln_failure_rate_halt_threshold: 0.5,
      large_settlement_sats: 5000,
      health_window_seconds: 86_400,
    });
    expect(body).toMatchObject({ settlement_sample: 0, loss_rate: 0, ln_pay_sample: 0, ln_failure_rate: 0, breakers: { halt_new_envelopes: false, halt_large_settlements: false } });

    large = (await envelopes(1, { max_sats: 6000 }))[0]!;
    largeUnverified = (await envelopes(1, { max_sats: 6000 }))[0]!;
    small = (await envelopes(1, { max_sats: 1000 }))[0]!;
    const opened = await openEnvelope(t.api);
    replayable = { offerId: opened.offer.offer_id, providerId: opened.providerId, body: { schema: 'openagents.credit.envelope_response.v1', envelope: opened.envelope, receipt: opened.receipt } };
    laterOffer = (await createOffer(t.api, { agent_id: hex64() })).offer_id;
  });

  it('does not trip below min_sample, even at a 100% failure rate', async () => {
    await settleAll(await envelopes(5), { verification_passed: false }, 'failed');
    await settleAll(await envelopes(3), { provider_invoice: 'lnfail-1' }, 'defaulted');
    const body = await health();
    expect(body).toMatchObject({ settlement_sample: 8, loss_count: 3, loss_rate: 3 / 8, ln_pay_sample: 3, ln_fail_count: 3, ln_failure_rate: 1 });
    expect(body.breakers).toEqual({ halt_new_envelopes: false, halt_large_settlements: false });
  });

  it('halt_large_settlements: 502 dependency_unavailable above large_settlement_sats, while small and unpaid settlements go on', async () => {
    await settleAll(await envelopes(1), { provider_invoice: 'LNFAIL-2' }, 'defaulted');
    const body = await health();
    expect(body).toMatchObject({ settlement_sample: 9, loss_count: 4, ln_pay_sample: 4, ln_fail_count: 4, ln_failure_rate: 1 });
    expect(body.loss_rate).toBeCloseTo(4 / 9);
    expect(body.breakers).toEqual({ halt_new_envelopes: false, halt_large_settlements: true });

    const refused = await settle(large);
    expect(refused.status).toBe(502);
    expect(refused.body.error).toMatchObject({ code: 'dependency_unavailable', details: { reason_code: 'halt_large_settlements', amount_sats: 6000, large_settlement_sats: 5000 } });
    const { rows } = await db.pool.query(
      `SELECT e.status, (SELECT count(*)::int FROM runtime.credit_settlements s WHERE s.envelope_id = e.envelope_id) AS settlements
         FROM runtime.credit_envelopes e WHERE envelope_id = $1`,
      [large],
    );
    expect(rows[0]).toEqual({ status: 'issued', settlements: 0 }); // refused before paying; nothing recorded

    // No money moves on a failed verification, so the breaker does not apply.
    expect((await settle(largeUnverified, { verification_passed: false })).body.outcome).toBe('failed');
    // At or below the cap, payments go on.
    expect((await settle(small)).body).toMatchObject({ outcome: 'success', spent_sats: 1000 });
    // New envelopes are still issued.
    await envelopes(1);
  });

  it('halt_new_envelopes: /envelope answers 502 dependency_unavailable once the loss rate reaches its threshold; replays still answer', async () => {
    const failing = await envelopes(3);
    await settleAll(failing, { provider_invoice: 'lnfail-3' }, 'defaulted');
    const body = await health();
    expect(body).toMatchObject({ settlement_sample: 14, loss_count: 7, loss_rate: 0.5, ln_pay_sample: 8, ln_fail_count: 7, ln_failure_rate: 7 / 8 });
    expect(body.breakers).toEqual({ halt_new_envelopes: true, halt_large_settlements: true });

    const refused = await t.api.call('POST', `${CREDIT}/envelope`, { body: { schema: 'openagents.credit.envelope_request.v1', offer_id: laterOffer, provider_id: hex64() } });
    expect(refused.status).toBe(502);
    expect(refused.body.error).toMatchObject({ code: 'dependency_unavailable', details: { reason_code: 'halt_new_envelopes' } });
    const { rows } = await db.pool.query('SELECT status FROM runtime.credit_offers WHERE offer_id = $1', [laterOffer]);
    expect(rows[0].status).toBe('offered');

    const replay = await t.api.call('POST', `${CREDIT}/envelope`, { body: { schema: 'openagents.credit.envelope_request.v1', offer_id: replayable.offerId, provider_id: replayable.providerId } });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(replayable.body);
    expect((await settle(large)).status).toBe(502);
  });

  it('clears once the failures age out of the health window (a store whose clock is one window later)', async () => {
    const contract = await loadOpenApiContract();
    const policy = t.config.credit.policy;
    const later = new CreditStore({
      pool: db.pool,
      policy,
      paymentBackend: new SimulatedLightningBackend(),
      now: () => new Date(Date.now() + (policy.healthWindowSeconds + 60) * 1000),
    });
    const body = await later.health();
    expect(contract.validateResponse('getCreditHealth', 200, body)).toEqual([]);
    expect(body).toMatchObject({ settlement_sample: 0, ln_pay_sample: 0, open_envelope_count: 0, breakers: { halt_new_envelopes: false, halt_large_settlements: false } });
  });
});
