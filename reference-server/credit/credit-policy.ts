/**
 * Credit policy, health-window rates, circuit breakers and underwriting (SPEC §3.4).
 * Pure functions over counts read from the database, so the math is unit-tested apart
 * from SQL.
 *
 * Breakers (SPEC §3.4, contract getCreditHealth):
 * - loss rate = defaulted settlements / settlements in the health window;
 *   `halt_new_envelopes` when that sample ≥ min_sample and loss rate ≥ loss_rate_halt_threshold.
 * - LN failure rate = failed Lightning payments / Lightning payment attempts in the window;
 *   `halt_large_settlements` when that sample ≥ min_sample and the rate ≥
 *   ln_failure_rate_halt_threshold.
 */
import type { components } from '../../contracts/generated/runtime-api.ts';
import type { CreditPolicyConfig } from '../config/runtime-config.ts';

type CreditPolicy = components['schemas']['CreditPolicy'];
type CreditBreakers = components['schemas']['CreditBreakers'];

/** The policy as the contract's CreditPolicy (snake_case), as /credit/health shows it. */
export function toContractPolicy(policy: CreditPolicyConfig): CreditPolicy {
  return {
    max_sats_per_envelope: policy.maxSatsPerEnvelope,
    max_outstanding_envelopes_per_agent: policy.maxOutstandingEnvelopesPerAgent,
    max_offer_ttl_seconds: policy.maxOfferTtlSeconds,
    min_sample: policy.minSample,
    loss_rate_halt_threshold: policy.lossRateHaltThreshold,
    ln_failure_rate_halt_threshold: policy.lnFailureRateHaltThreshold,
    large_settlement_sats: policy.largeSettlementSats,
    health_window_seconds: policy.healthWindowSeconds,
  };
}

/** Counts over the health window. */
export interface HealthWindowCounts {
  /** Settlements (any outcome) settled in the window. */
  settlementSample: number;
  /** Of those, outcome `defaulted`. */
  lossCount: number;
  /** Settlements in the window for which the payment backend was asked to pay. */
  lnPaySample: number;
  /** Of those, payments that failed. */
  lnFailCount: number;
}

export interface HealthRates {
  lossRate: number;
  lnFailureRate: number;
  breakers: CreditBreakers;
}

/** A rate of count over sample; 0 for an empty sample. */
export function rate(count: number, sample: number): number {
  return sample > 0 ? count / sample : 0;
}

export function computeHealthRates(counts: HealthWindowCounts, policy: CreditPolicyConfig): HealthRates {
  const lossRate = rate(counts.lossCount, counts.settlementSample);
  const lnFailureRate = rate(counts.lnFailCount, counts.lnPaySample);
  return {
    lossRate,
    lnFailureRate,
    breakers: {
      halt_new_envelopes: counts.settlementSample >= policy.minSample && lossRate >= policy.lossRateHaltThreshold,
      halt_large_settlements: counts.lnPaySample >= policy.minSample && lnFailureRate >= policy.lnFailureRateHaltThreshold,
    },
  };
}

/** True when a settlement of amountSats must be refused while halt_large_settlements holds. */
export function isLargeSettlement(amountSats: number, policy: CreditPolicyConfig): boolean {
  return amountSats > policy.largeSettlementSats;
}

/** Window of an agent's history in the exposure document (`*_30d`). */
export const EXPOSURE_HISTORY_SECONDS = 30 * 24 * 3600;

/** An agent's 30-day settlement history. */
export interface AgentHistory {
  settledCount: number;
  successCount: number;
  successVolumeSats: number;
  verificationPassedCount: number;
  lossCount: number;
}

export interface UnderwritingTerms {
  limitSats: number;
  feeBps: number;
  requiresVerifier: boolean;
}

/**
 * Underwriting constants of the reference server. They are advisory terms a pool reads
 * from the exposure document to price offers; the enforced caps are the policy's.
 */
export const UNDERWRITING = {
  /** Credit line of an agent without history. */
  baseLimitSats: 1_000,
  /** Fee of an agent with a clean history. */
  baseFeeBps: 100,
  /** Surcharge while the agent has no settled history. */
  noHistoryFeeBps: 100,
  /** Surcharge per loss in the last 30 days. */
  lossFeeBps: 500,
} as const;

/**
 * Underwriting terms from an agent's 30-day history:
 * - limit = min(max_sats_per_envelope × max_outstanding_envelopes_per_agent,
 *   base + successful volume), halved per loss;
 * - fee = base (+ no-history surcharge) + per-loss surcharge, capped at 100000 bps;
 * - a verifier is required until the agent has min_sample settlements and no loss.
 */
export function underwrite(history: AgentHistory, policy: CreditPolicyConfig): UnderwritingTerms {
  const ceiling = policy.maxSatsPerEnvelope * policy.maxOutstandingEnvelopesPerAgent;
  const line = Math.min(ceiling, UNDERWRITING.baseLimitSats + history.successVolumeSats);
  const limitSats = Math.floor(line / 2 ** Math.min(history.lossCount, 62));
  const feeBps = Math.min(
    100_000,
    UNDERWRITING.baseFeeBps + (history.settledCount === 0 ? UNDERWRITING.noHistoryFeeBps : 0) + UNDERWRITING.lossFeeBps * history.lossCount,
  );
  const requiresVerifier = history.settledCount < policy.minSample || history.lossCount > 0;
  return { limitSats, feeBps, requiresVerifier };
}

/** The credit fee the agent owes on a successful settlement: ceil(spent × fee_bps / 10000). */
export function creditFeeSats(spentSats: number, feeBps: number): number {
  // BigInt keeps the product exact for any safe-integer amount.
  return Number((BigInt(spentSats) * BigInt(feeBps) + 9_999n) / 10_000n);
}
