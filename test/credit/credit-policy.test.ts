/**
 * Unit tests of the credit building blocks (SPEC §3.4): deterministic ids, breaker math,
 * underwriting and the simulated Lightning node.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CreditPolicyConfig } from '../../reference-server/config/runtime-config.ts';
import { creditEnvelopeId, creditIntentId, creditOfferId, creditSettlementId, fingerprint, normalizeTime } from '../../reference-server/credit/credit-ids.ts';
import { computeHealthRates, creditFeeSats, isLargeSettlement, toContractPolicy, underwrite } from '../../reference-server/credit/credit-policy.ts';
import { SimulatedLightningBackend } from '../../reference-server/credit/payment-backend.ts';

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

const POLICY: CreditPolicyConfig = {
  maxSatsPerEnvelope: 100_000,
  maxOutstandingEnvelopesPerAgent: 3,
  maxOfferTtlSeconds: 86_400,
  minSample: 5,
  lossRateHaltThreshold: 0.5,
  lnFailureRateHaltThreshold: 0.5,
  largeSettlementSats: 10_000,
  healthWindowSeconds: 86_400,
};

describe('credit ids', () => {
  it('intent_id = "cepi_" + sha256(agent_id + ":" + idempotency_key)[0:24]', () => {
    const agent = 'a'.repeat(64);
    expect(creditIntentId(agent, 'k-1')).toBe(`cepi_${sha256(`${agent}:k-1`).slice(0, 24)}`);
    expect(creditIntentId(agent, 'k-1')).not.toBe(creditIntentId('b'.repeat(64), 'k-1'));
  });

  it('offer, envelope and settlement ids come from canonical-JSON fingerprints (key order does not matter)', () => {
    expect(fingerprint({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe(sha256('{"a":[2,{"c":2,"d":1}],"b":1}'));
    const fp = fingerprint({ x: 1 });
    expect(creditOfferId(fp)).toBe(`cepo_${fp.slice(0, 24)}`);
    expect(creditEnvelopeId('cepo_1', 'p')).toBe(`cepe_${sha256('{"offer_id":"cepo_1","provider_id":"p"}').slice(0, 24)}`);
    expect(creditSettlementId('cepe_1')).toBe(`ceps_${sha256('{"envelope_id":"cepe_1"}').slice(0, 24)}`);
  });

  it('normalizes RFC 3339 spellings of one instant, and refuses what JavaScript cannot represent', () => {
    expect(normalizeTime('2030-01-01T02:00:00+02:00')).toBe('2030-01-01T00:00:00.000Z');
    expect(normalizeTime('2030-01-01t00:00:00z')).toBe('2030-01-01T00:00:00.000Z');
    expect(normalizeTime('2030-12-31T23:59:60Z')).toBeUndefined();
  });
});

describe('credit breakers', () => {
  it('computes loss and LN failure rates, and trips only at sample ≥ min_sample and rate ≥ threshold', () => {
    const quiet = computeHealthRates({ settlementSample: 0, lossCount: 0, lnPaySample: 0, lnFailCount: 0 }, POLICY);
    expect(quiet).toEqual({ lossRate: 0, lnFailureRate: 0, breakers: { halt_new_envelopes: false, halt_large_settlements: false } });

    const smallSample = computeHealthRates({ settlementSample: 4, lossCount: 4, lnPaySample: 4, lnFailCount: 4 }, POLICY);
    expect(smallSample.lossRate).toBe(1);
    expect(smallSample.breakers).toEqual({ halt_new_envelopes: false, halt_large_settlements: false });

    const atThreshold = computeHealthRates({ settlementSample: 10, lossCount: 5, lnPaySample: 6, lnFailCount: 2 }, POLICY);
    expect(atThreshold).toEqual({ lossRate: 0.5, lnFailureRate: 1 / 3, breakers: { halt_new_envelopes: true, halt_large_settlements: false } });

    const lnOnly = computeHealthRates({ settlementSample: 10, lossCount: 4, lnPaySample: 5, lnFailCount: 4 }, POLICY);
    expect(lnOnly.breakers).toEqual({ halt_new_envelopes: false, halt_large_settlements: true });
  });

  it('large settlements are those strictly above large_settlement_sats', () => {
    expect(isLargeSettlement(10_000, POLICY)).toBe(false);
    expect(isLargeSettlement(10_001, POLICY)).toBe(true);
  });

  it('shows the policy in the contract shape', () => {
    expect(toContractPolicy(POLICY)).toEqual({
      max_sats_per_envelope: 100_000,
      max_outstanding_envelopes_per_agent: 3,
      max_offer_ttl_seconds: 86_400,
      min_sample: 5,
      loss_rate_halt_threshold: 0.5,
      ln_failure_rate_halt_threshold: 0.5,
      large_settlement_sats: 10_000,
      health_window_seconds: 86_400,
    });
  });
});

describe('underwriting and fees', () => {
  const none = { settledCount: 0, successCount: 0, successVolumeSats: 0, verificationPassedCount: 0, lossCount: 0 };

  it('starts a new agent at the base line with a surcharge and a verifier', () => {
    expect(underwrite(none, POLICY)).toEqual({ limitSats: 1000, feeBps: 200, requiresVerifier: true });
  });

  it('grows the line with successful volume up to the policy ceiling, and drops the verifier after a clean min_sample', () => {
    const good = { settledCount: 5, successCount: 5, successVolumeSats: 50_000, verificationPassedCount: 5, lossCount: 0 };
    expect(underwrite(good, POLICY)).toEqual({ limitSats: 51_000, feeBps: 100, requiresVerifier: false });
    expect(underwrite({ ...good, successVolumeSats: 10_000_000 }, POLICY).limitSats).toBe(300_000);
  });

  it('halves the line and adds 500 bps per loss, capped at 100000 bps', () => {
    const lossy = { settledCount: 6, successCount: 4, successVolumeSats: 7000, verificationPassedCount: 6, lossCount: 2 };
    expect(underwrite(lossy, POLICY)).toEqual({ limitSats: 2000, feeBps: 1100, requiresVerifier: true });
    expect(underwrite({ ...lossy, lossCount: 1000 }, POLICY)).toEqual({ limitSats: 0, feeBps: 100_000, requiresVerifier: true });
  });

  it('charges ceil(spent × fee_bps / 10000) exactly', () => {
    expect(creditFeeSats(3333, 150)).toBe(50);
    expect(creditFeeSats(10_000, 0)).toBe(0);
    expect(creditFeeSats(Number.MAX_SAFE_INTEGER, 1)).toBe(900_719_925_475);
  });
});

describe('simulated Lightning backend', () => {
  const backend = new SimulatedLightningBackend();

  it('pays over a direct channel (fee 0) with payment_hash = sha256(preimage), deterministically', async () => {
    const request = { invoice: 'lnbc1ok', amountSats: 1500, maxFeeMsats: 0, settlementId: 'ceps_x' };
    const paid = await backend.pay(request);
    expect(paid).toMatchObject({ backend: 'simulated', status: 'paid', amount_msats: 1_500_000, fee_paid_msats: 0, failure_reason: null });
    expect(paid.payment_hash).toBe(sha256(Buffer.from(paid.preimage!, 'hex')));
    expect(await backend.pay(request)).toEqual(paid);
  });

  it('fails an invoice beginning lnfail (any case)', async () => {
    for (const invoice of ['lnfail', 'LNFAIL123']) {
      expect(await backend.pay({ invoice, amountSats: 1, maxFeeMsats: 1000, settlementId: 'ceps_y' })).toMatchObject({ status: 'failed', preimage: null, failure_reason: 'no_route' });
    }
  });
});
