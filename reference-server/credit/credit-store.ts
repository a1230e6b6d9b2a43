/**
 * Credit (CEP) writes and reads on PostgreSQL (SPEC §3.4, tables of migration 0002_credit).
 *
 * Concurrency: every write relies on a primary key or unique constraint (INSERT ... ON
 * CONFLICT DO NOTHING, then the stored row) or on a row lock (SELECT ... FOR UPDATE) taken
 * in the transaction that writes: identical racing intents/offers collapse into one row;
 * envelope writers of one offer serialize on the offer row and writers for one agent on
 * its credit_agents row (outstanding-envelope cap); settlers of one envelope serialize on
 * the envelope row, so it is paid and settled once, and the settlement, the envelope's
 * new status and the receipt commit together.
 *
 * Replays: a stored row whose request fingerprint equals the request's is answered as is
 * (200); a different fingerprint under the same id is 409 `conflict`.
 */
import type { Pool, PoolClient } from 'pg';
import type { components } from '../../contracts/generated/runtime-api.ts';
import { canonicalJson } from '../../contracts/payload-hash.ts';
import type { CreditPolicyConfig } from '../config/runtime-config.ts';
import { withTransaction } from '../db/transaction.ts';
import { ApiError } from '../http/api-error.ts';
import {
  creditEnvelopeId,
  creditIntentId,
  creditOfferId,
  creditReceiptId,
  creditSettlementId,
  fingerprint,
  normalizeTime,
} from './credit-ids.ts';
import {
  type AgentHistory,
  computeHealthRates,
  creditFeeSats,
  EXPOSURE_HISTORY_SECONDS,
  type HealthWindowCounts,
  isLargeSettlement,
  rate,
  toContractPolicy,
  underwrite,
} from './credit-policy.ts';
import type { PaymentBackend, PaymentResult } from './payment-backend.ts';

type CreditIntentRequest = components['schemas']['CreditIntentRequestV1'];
type CreditIntent = components['schemas']['CreditIntentV1'];
type CreditOfferRequest = components['schemas']['CreditOfferRequestV1'];
type CreditOffer = components['schemas']['CreditOfferV1'];
type CreditEnvelopeRequest = components['schemas']['CreditEnvelopeRequestV1'];
type CreditEnvelopeResponse = components['schemas']['CreditEnvelopeResponseV1'];
type CreditEnvelope = components['schemas']['CreditEnvelopeV1'];
type CreditSettleRequest = components['schemas']['CreditSettleRequestV1'];
type CreditSettleResponse = components['schemas']['CreditSettleResponseV1'];
type CreditSettlementOutcome = components['schemas']['CreditSettlementOutcome'];
type CreditReceipt = components['schemas']['CreditReceiptV1'];
type CreditHealthResponse = components['schemas']['CreditHealthResponseV1'];
type CreditAgentExposureResponse = components['schemas']['CreditAgentExposureResponseV1'];
type ReceiptKind = 'envelope_issued' | 'settlement';

/** Envelope status after a settlement with this outcome. */
const ENVELOPE_STATUS_AFTER: Record<CreditSettlementOutcome, CreditEnvelope['status']> = {
  success: 'settled',
  failed: 'failed',
  expired: 'expired',
  defaulted: 'defaulted',
};

interface IntentRow {
  intent_id: string;
  agent_id: string;
  idempotency_key: string;
  request_fingerprint: string;
  scope_type: 'nip90';
  scope_id: string;
  max_sats: string;
  exp: Date;
  created_at: Date;
}

interface OfferRow {
  offer_id: string;
  request_fingerprint: string;
  agent_id: string;
  pool_id: string;
  intent_id: string | null;
  scope_type: 'nip90';
  scope_id: string;
  max_sats: string;
  fee_bps: number;
  requires_verifier: boolean;
  exp: Date;
  status: CreditOffer['status'];
  issued_at: Date;
}

interface EnvelopeRow {
  envelope_id: string;
  offer_id: string;
  agent_id: string;
  pool_id: string;
  provider_id: string;
  scope_type: 'nip90';
  scope_id: string;
  max_sats: string;
  fee_bps: number;
  exp: Date;
  status: CreditEnvelope['status'];
  issued_at: Date;
}

interface ReceiptRow {
  receipt_id: string;
  kind: ReceiptKind;
  sha256: string;
  body: Record<string, unknown>;
  issued_at: Date;
}

interface SettlementRow {
  settlement_id: string;
  envelope_id: string;
  request_fingerprint: string;
  outcome: CreditSettlementOutcome;
  spent_sats: string;
  fee_sats: string;
  verification_receipt_sha256: string;
  liquidity_receipt_sha256: string | null;
}

const INTENT_COLUMNS = 'intent_id, agent_id, idempotency_key, request_fingerprint, scope_type, scope_id, max_sats, exp, created_at';
const OFFER_COLUMNS = 'offer_id, request_fingerprint, agent_id, pool_id, intent_id, scope_type, scope_id, max_sats, fee_bps, requires_verifier, exp, status, issued_at';
const ENVELOPE_COLUMNS = 'envelope_id, offer_id, agent_id, pool_id, provider_id, scope_type, scope_id, max_sats, fee_bps, exp, status, issued_at';
const SETTLEMENT_COLUMNS = 'settlement_id, envelope_id, request_fingerprint, outcome, spent_sats, fee_sats, verification_receipt_sha256, liquidity_receipt_sha256';
const RECEIPT_COLUMNS = 'receipt_id, kind, sha256, body, issued_at';

type Queryable = Pool | PoolClient;

function toIntent(row: IntentRow): CreditIntent {
  return {
    intent_id: row.intent_id,
    idempotency_key: row.idempotency_key,
    agent_id: row.agent_id,
    scope_type: row.scope_type,
    scope_id: row.scope_id,
    max_sats: Number(row.max_sats),
    exp: row.exp.toISOString(),
    created_at: row.created_at.toISOString(),
  };
}

function toOffer(row: OfferRow): CreditOffer {
  return {
    offer_id: row.offer_id,
    agent_id: row.agent_id,
    pool_id: row.pool_id,
    intent_id: row.intent_id,
    scope_type: row.scope_type,
    scope_id: row.scope_id,
    max_sats: Number(row.max_sats),
    fee_bps: row.fee_bps,
    requires_verifier: row.requires_verifier,
    exp: row.exp.toISOString(),
    status: row.status,
    issued_at: row.issued_at.toISOString(),
  };
}

function toEnvelope(row: EnvelopeRow): CreditEnvelope {
  return {
    envelope_id: row.envelope_id,
    offer_id: row.offer_id,
    agent_id: row.agent_id,
    pool_id: row.pool_id,
    provider_id: row.provider_id,
    scope_type: row.scope_type,
    scope_id: row.scope_id,
    max_sats: Number(row.max_sats),
    fee_bps: row.fee_bps,
    exp: row.exp.toISOString(),
    status: row.status,
    issued_at: row.issued_at.toISOString(),
  };
}

function toReceipt(row: ReceiptRow): CreditReceipt {
  return {
    schema: 'openagents.credit.receipt.v1',
    receipt_id: row.receipt_id,
    kind: row.kind,
    sha256: row.sha256,
    issued_at: row.issued_at.toISOString(),
    body: row.body,
  };
}

function toSettleResponse(row: SettlementRow, receipt: ReceiptRow): CreditSettleResponse {
  return {
    schema: 'openagents.credit.settle_response.v1',
    envelope_id: row.envelope_id,
    settlement_id: row.settlement_id,
    outcome: row.outcome,
    spent_sats: Number(row.spent_sats),
    fee_sats: Number(row.fee_sats),
    verification_receipt_sha256: row.verification_receipt_sha256,
    liquidity_receipt_sha256: row.liquidity_receipt_sha256,
    receipt: toReceipt(receipt),
  };
}

/** PostgreSQL text and jsonb cannot hold U+0000; refuse it as a bad request rather than fail with a 500. */
function assertNoNul(field: string, value: unknown): void {
  if (value === undefined) return;
  const text = typeof value === 'string' ? value : canonicalJson(value);
  if (text.includes('\u0000') || (typeof value !== 'string' && text.includes('\\u0000'))) {
    throw new ApiError('invalid_request', `${field} must not contain U+0000`, { reason_code: 'nul_character', field });
  }
}

/** Integers beyond 2^53 - 1 lose precision in JSON numbers; the contract's integers must be exact. */
function assertSafeInteger(field: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new ApiError('invalid_request', `${field} must be an integer no larger than ${Number.MAX_SAFE_INTEGER}`, { reason_code: 'integer_out_of_range', field });
  }
}

function requireTime(field: string, value: string): string {
  const normalized = normalizeTime(value);
  if (normalized === undefined) {
    throw new ApiError('invalid_request', `${field} is not a representable RFC 3339 time`, { reason_code: 'invalid_time', field });
  }
  return normalized;
}

export interface CreditStoreOptions {
  pool: Pool;
  policy: CreditPolicyConfig;
  paymentBackend: PaymentBackend;
  /** The clock of every credit time (exp checks, created/issued/settled times, windows). */
  now?: () => Date;
}

/** Credit (CEP) authority: intents, offers, envelopes, settlements, health and exposure (SPEC §3.4). */
export class CreditStore {
  private readonly pool: Pool;
  private readonly policy: CreditPolicyConfig;
  private readonly paymentBackend: PaymentBackend;
  private readonly now: () => Date;

  constructor(options: CreditStoreOptions) {
    this.pool = options.pool;
    this.policy = options.policy;
    this.paymentBackend = options.paymentBackend;
    this.now = options.now ?? (() => new Date());
  }

  // ------------------------------------------------------------------ intents

  /** Records an intent; idempotent per (agent_id, idempotency_key). */
  async createIntent(request: CreditIntentRequest): Promise<CreditIntent> {
    assertNoNul('idempotency_key', request.idempotency_key);
    assertNoNul('scope_id', request.scope_id);
    assertNoNul('policy_context', request.policy_context);
    const exp = requireTime('exp', request.exp);
    const policyContext = request.policy_context ?? {};
    const intentId = creditIntentId(request.agent_id, request.idempotency_key);
    const requestFingerprint = fingerprint({
      agent_id: request.agent_id,
      idempotency_key: request.idempotency_key,
      scope_type: request.scope_type,
      scope_id: request.scope_id,
      max_sats: request.max_sats,
      exp,
      policy_context: policyContext,
    });

    const stored = await readIntent(this.pool, intentId);
    if (stored) return replayIntent(stored, requestFingerprint);

    assertSafeInteger('max_sats', request.max_sats);
    const now = this.now();
    if (Date.parse(exp) <= now.getTime()) {
      throw new ApiError('invalid_request', `exp ${exp} is not in the future`, { reason_code: 'intent_expired', field: 'exp' });
    }
    this.assertWithinEnvelopeCap(request.max_sats);
    const { rows } = await this.pool.query<IntentRow>(
      `INSERT INTO runtime.credit_intents
         (intent_id, agent_id, idempotency_key, request_fingerprint, scope_type, scope_id, max_sats, exp, policy_context, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT DO NOTHING
       RETURNING ${INTENT_COLUMNS}`,
      [intentId, request.agent_id, request.idempotency_key, requestFingerprint, request.scope_type, request.scope_id, request.max_sats, exp, JSON.stringify(policyContext), now],
    );
    if (rows[0]) return toIntent(rows[0]);
    // Lost a race to an identical (or drifted) intent: answer as a replay of the winner.
    const winner = await readIntent(this.pool, intentId);
    if (!winner) throw new Error(`credit intent ${intentId} conflicted but is not readable`);
    return replayIntent(winner, requestFingerprint);
  }

  // ------------------------------------------------------------------ offers

  /** Creates an offer; the same request is the same offer (id from its fingerprint). */
  async createOffer(request: CreditOfferRequest): Promise<CreditOffer> {
    assertNoNul('scope_id', request.scope_id);
    const exp = requireTime('exp', request.exp);
    const requestFingerprint = offerRequestFingerprint(request, exp);
    const offerId = creditOfferId(requestFingerprint);
    const now = this.now();

    const stored = await readOffer(this.pool, offerId);
    if (stored) return replayOffer(stored, requestFingerprint, now);

    assertSafeInteger('max_sats', request.max_sats);
    const expMs = Date.parse(exp);
    if (expMs <= now.getTime()) {
      throw new ApiError('invalid_request', `offer exp ${exp} is not in the future`, { reason_code: 'offer_expired', field: 'exp' });
    }
    const ttlSeconds = (expMs - now.getTime()) / 1000;
    if (ttlSeconds > this.policy.maxOfferTtlSeconds) {
      throw new ApiError('invalid_request', `offer exp is ${Math.ceil(ttlSeconds)}s away; policy allows at most ${this.policy.maxOfferTtlSeconds}s`, {
        reason_code: 'offer_ttl_over_policy',
        field: 'exp',
        max_offer_ttl_seconds: this.policy.maxOfferTtlSeconds,
      });
    }
    this.assertWithinEnvelopeCap(request.max_sats);
    if (request.intent_id !== undefined) {
      const intent = await readIntent(this.pool, request.intent_id);
      if (!intent) throw new ApiError('not_found', `credit intent ${request.intent_id} not found`, { intent_id: request.intent_id });
      const mismatched = [
        intent.agent_id !== request.agent_id && 'agent_id',
        intent.scope_type !== request.scope_type && 'scope_type',
        intent.scope_id !== request.scope_id && 'scope_id',
        request.max_sats > Number(intent.max_sats) && 'max_sats',
      ].filter((field): field is string => typeof field === 'string');
      if (mismatched.length > 0) {
        throw new ApiError('conflict', `the offer does not match intent ${intent.intent_id} (${mismatched.join(', ')})`, {
          reason_code: 'intent_mismatch',
          intent_id: intent.intent_id,
          fields: mismatched,
        });
      }
      if (intent.exp.getTime() <= now.getTime()) {
        throw new ApiError('invalid_request', `credit intent ${intent.intent_id} expired at ${intent.exp.toISOString()}`, {
          reason_code: 'intent_expired',
          intent_id: intent.intent_id,
        });
      }
    }
    const { rows } = await this.pool.query<OfferRow>(
      `INSERT INTO runtime.credit_offers
         (offer_id, request_fingerprint, agent_id, pool_id, intent_id, scope_type, scope_id, max_sats, fee_bps, requires_verifier, exp, issued_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
       ON CONFLICT (offer_id) DO NOTHING
       RETURNING ${OFFER_COLUMNS}`,
      [
        offerId,
        requestFingerprint,
        request.agent_id,
        request.pool_id,
        request.intent_id ?? null,
        request.scope_type,
        request.scope_id,
        request.max_sats,
        request.fee_bps,
        request.requires_verifier,
        exp,
        now,
      ],
    );
    if (rows[0]) return toOffer(rows[0]);
    const winner = await readOffer(this.pool, offerId);
    if (!winner) throw new Error(`credit offer ${offerId} conflicted but is not readable`);
    return replayOffer(winner, requestFingerprint, now);
  }

  // ------------------------------------------------------------------ envelopes

  /**
   * Accepts an offer for a provider and issues the envelope with its receipt. A replay
   * (same offer and provider) answers the stored envelope even while halt_new_envelopes
   * holds, since it issues nothing.
   */
  async createEnvelope(request: CreditEnvelopeRequest): Promise<CreditEnvelopeResponse> {
    const envelopeId = creditEnvelopeId(request.offer_id, request.provider_id);
    const stored = await readEnvelopeResponse(this.pool, envelopeId);
    if (stored) return stored;

    const { breakers } = computeHealthRates(await this.healthWindowCounts(this.pool, this.now()), this.policy);
    if (breakers.halt_new_envelopes) {
      throw new ApiError(
        'dependency_unavailable',
        'credit breaker halt_new_envelopes is tripped: the loss rate over the health window reached its halt threshold',
        { reason_code: 'halt_new_envelopes', breaker: 'halt_new_envelopes' },
        undefined,
        502,
      );
    }

    return withTransaction(this.pool, async (client) => {
      const offerResult = await client.query<OfferRow>(`SELECT ${OFFER_COLUMNS} FROM runtime.credit_offers WHERE offer_id = $1 FOR UPDATE`, [request.offer_id]);
      const offer = offerResult.rows[0];
      if (!offer) throw new ApiError('not_found', `credit offer ${request.offer_id} not found`, { offer_id: request.offer_id });
      // An identical request that won the offer lock first: answer its envelope.
      const raced = await readEnvelopeResponse(client, envelopeId);
      if (raced) return raced;
      if (offer.status !== 'offered') {
        throw new ApiError('conflict', `credit offer ${offer.offer_id} is ${offer.status}${offer.status === 'accepted' ? ' by another provider' : ''}`, {
          reason_code: offer.status === 'accepted' ? 'offer_consumed' : 'offer_not_offered',
          offer_id: offer.offer_id,
          status: offer.status,
        });
      }
      const now = this.now();
      if (offer.exp.getTime() <= now.getTime()) {
        throw new ApiError('invalid_request', `credit offer ${offer.offer_id} expired at ${offer.exp.toISOString()}`, {
          reason_code: 'offer_expired',
          offer_id: offer.offer_id,
        });
      }
      // The agent row lock serializes envelope writers of one agent, so the count below
      // cannot be overrun by a concurrent envelope for another offer of the same agent.
      await client.query('INSERT INTO runtime.credit_agents (agent_id, created_at) VALUES ($1, $2) ON CONFLICT (agent_id) DO NOTHING', [offer.agent_id, now]);
      await client.query('SELECT agent_id FROM runtime.credit_agents WHERE agent_id = $1 FOR UPDATE', [offer.agent_id]);
      const open = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM runtime.credit_envelopes WHERE agent_id = $1 AND status = 'issued' AND exp > $2`,
        [offer.agent_id, now],
      );
      const openCount = open.rows[0]?.n ?? 0;
      if (openCount >= this.policy.maxOutstandingEnvelopesPerAgent) {
        throw new ApiError('invalid_request', `agent ${offer.agent_id} has ${openCount} open envelopes; policy allows ${this.policy.maxOutstandingEnvelopesPerAgent}`, {
          reason_code: 'outstanding_envelopes_over_policy',
          agent_id: offer.agent_id,
          open_envelope_count: openCount,
          max_outstanding_envelopes_per_agent: this.policy.maxOutstandingEnvelopesPerAgent,
        });
      }
      const inserted = await client.query<EnvelopeRow>(
        `INSERT INTO runtime.credit_envelopes
           (envelope_id, offer_id, agent_id, pool_id, provider_id, scope_type, scope_id, max_sats, fee_bps, exp, issued_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         RETURNING ${ENVELOPE_COLUMNS}`,
        [envelopeId, offer.offer_id, offer.agent_id, offer.pool_id, request.provider_id, offer.scope_type, offer.scope_id, offer.max_sats, offer.fee_bps, offer.exp, now],
      );
      await client.query(`UPDATE runtime.credit_offers SET status = 'accepted', updated_at = $2 WHERE offer_id = $1`, [offer.offer_id, now]);
      const envelope = toEnvelope(inserted.rows[0]!);
      const { status: _status, ...issued } = envelope;
      const receipt = await insertReceipt(client, 'envelope_issued', envelopeId, issued, now);
      return { schema: 'openagents.credit.envelope_response.v1', envelope, receipt: toReceipt(receipt) };
    });
  }

  // ------------------------------------------------------------------ settlements

  /**
   * Settles an envelope once: expired → `expired`; verification failed → `failed`
   * (spent 0); otherwise the payment backend pays the provider invoice → `success` or
   * `defaulted`. The payment happens under the envelope row lock, so concurrent settles
   * of one envelope pay once; settlement, envelope status and receipt commit together.
   */
  async settle(request: CreditSettleRequest): Promise<CreditSettleResponse> {
    assertNoNul('provider_invoice', request.provider_invoice);
    assertNoNul('provider_host', request.provider_host);
    assertNoNul('policy_context', request.policy_context);
    assertSafeInteger('max_fee_msats', request.max_fee_msats);
    const policyContext = request.policy_context ?? {};
    const settlementId = creditSettlementId(request.envelope_id);
    const requestFingerprint = fingerprint({
      envelope_id: request.envelope_id,
      verification_passed: request.verification_passed,
      verification_receipt_sha256: request.verification_receipt_sha256,
      provider_invoice: request.provider_invoice,
      provider_host: request.provider_host,
      max_fee_msats: request.max_fee_msats,
      policy_context: policyContext,
    });

    const stored = await readSettlement(this.pool, settlementId);
    if (stored) return replaySettlement(stored, requestFingerprint);

    return withTransaction(this.pool, async (client) => {
      const envelopeResult = await client.query<EnvelopeRow>(`SELECT ${ENVELOPE_COLUMNS} FROM runtime.credit_envelopes WHERE envelope_id = $1 FOR UPDATE`, [request.envelope_id]);
      const envelope = envelopeResult.rows[0];
      if (!envelope) throw new ApiError('not_found', `credit envelope ${request.envelope_id} not found`, { envelope_id: request.envelope_id });
      // A concurrent settle that held the lock first: answer its settlement.
      const raced = await readSettlement(client, settlementId);
      if (raced) return replaySettlement(raced, requestFingerprint);
      if (envelope.status !== 'issued') {
        throw new ApiError('conflict', `credit envelope ${envelope.envelope_id} is ${envelope.status}`, {
          reason_code: 'envelope_not_open',
          envelope_id: envelope.envelope_id,
          status: envelope.status,
        });
      }

      const now = this.now();
      const maxSats = Number(envelope.max_sats);
      let outcome: CreditSettlementOutcome;
      let payment: PaymentResult | null = null;
      if (envelope.exp.getTime() <= now.getTime()) {
        outcome = 'expired';
      } else if (!request.verification_passed) {
        outcome = 'failed';
      } else {
        if (isLargeSettlement(maxSats, this.policy)) {
          const { breakers } = computeHealthRates(await this.healthWindowCounts(client, now), this.policy);
          if (breakers.halt_large_settlements) {
            throw new ApiError(
              'dependency_unavailable',
              `credit breaker halt_large_settlements is tripped: settlements above ${this.policy.largeSettlementSats} sats are refused`,
              { reason_code: 'halt_large_settlements', breaker: 'halt_large_settlements', amount_sats: maxSats, large_settlement_sats: this.policy.largeSettlementSats },
              undefined,
              502,
            );
          }
        }
        // Boundary: the payment backend (simulated Lightning node in the reference).
        payment = await this.paymentBackend.pay({
          invoice: request.provider_invoice,
          amountSats: maxSats,
          maxFeeMsats: request.max_fee_msats,
          settlementId,
        });
        outcome = payment.status === 'paid' ? 'success' : 'defaulted';
      }
      const spentSats = outcome === 'success' ? maxSats : 0;
      const feeSats = outcome === 'success' ? creditFeeSats(spentSats, envelope.fee_bps) : 0;
      const liquiditySha256 = payment ? fingerprint(payment) : null;

      const inserted = await client.query<SettlementRow>(
        `INSERT INTO runtime.credit_settlements
           (settlement_id, envelope_id, agent_id, request_fingerprint, outcome, spent_sats, fee_sats, verification_passed,
            verification_receipt_sha256, provider_invoice, provider_host, max_fee_msats, policy_context,
            payment_backend, payment_status, liquidity_receipt, liquidity_receipt_sha256, settled_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         RETURNING ${SETTLEMENT_COLUMNS}`,
        [
          settlementId,
          envelope.envelope_id,
          envelope.agent_id,
          requestFingerprint,
          outcome,
          spentSats,
          feeSats,
          request.verification_passed,
          request.verification_receipt_sha256,
          request.provider_invoice,
          request.provider_host,
          request.max_fee_msats,
          JSON.stringify(policyContext),
          payment ? payment.backend : null,
          payment ? payment.status : null,
          payment ? JSON.stringify(payment) : null,
          liquiditySha256,
          now,
        ],
      );
      await client.query('UPDATE runtime.credit_envelopes SET status = $2, updated_at = $3 WHERE envelope_id = $1', [envelope.envelope_id, ENVELOPE_STATUS_AFTER[outcome], now]);
      const receipt = await insertReceipt(
        client,
        'settlement',
        settlementId,
        {
          settlement_id: settlementId,
          envelope_id: envelope.envelope_id,
          offer_id: envelope.offer_id,
          agent_id: envelope.agent_id,
          pool_id: envelope.pool_id,
          provider_id: envelope.provider_id,
          outcome,
          spent_sats: spentSats,
          fee_sats: feeSats,
          verification_passed: request.verification_passed,
          verification_receipt_sha256: request.verification_receipt_sha256,
          liquidity_receipt_sha256: liquiditySha256,
          payment_hash: payment ? payment.payment_hash : null,
          settled_at: now.toISOString(),
        },
        now,
      );
      return toSettleResponse(inserted.rows[0]!, receipt);
    });
  }

  // ------------------------------------------------------------------ reads

  /** Health over policy.health_window_seconds: open commitments, rates, breakers and the policy. */
  async health(): Promise<CreditHealthResponse> {
    const now = this.now();
    const [counts, open] = await Promise.all([
      this.healthWindowCounts(this.pool, now),
      this.pool.query<{ n: number; sats: string }>(
        `SELECT count(*)::int AS n, coalesce(sum(max_sats), 0)::text AS sats FROM runtime.credit_envelopes WHERE status = 'issued' AND exp > $1`,
        [now],
      ),
    ]);
    const { lossRate, lnFailureRate, breakers } = computeHealthRates(counts, this.policy);
    return {
      schema: 'openagents.credit.health.v1',
      generated_at: now.toISOString(),
      open_envelope_count: open.rows[0]?.n ?? 0,
      open_reserved_commitments_sats: Number(open.rows[0]?.sats ?? 0),
      settlement_sample: counts.settlementSample,
      loss_count: counts.lossCount,
      loss_rate: lossRate,
      ln_pay_sample: counts.lnPaySample,
      ln_fail_count: counts.lnFailCount,
      ln_failure_rate: lnFailureRate,
      breakers,
      policy: toContractPolicy(this.policy),
    };
  }

  /** An agent's open exposure, 30-day history and underwriting terms; zeros for an unknown agent. */
  async agentExposure(agentId: string): Promise<CreditAgentExposureResponse> {
    const now = this.now();
    const since = new Date(now.getTime() - EXPOSURE_HISTORY_SECONDS * 1000);
    const [open, history] = await Promise.all([
      this.pool.query<{ n: number; sats: string }>(
        `SELECT count(*)::int AS n, coalesce(sum(max_sats), 0)::text AS sats
           FROM runtime.credit_envelopes WHERE agent_id = $1 AND status = 'issued' AND exp > $2`,
        [agentId, now],
      ),
      this.pool.query<{ settled: number; success: number; volume: string; passed: number; losses: number }>(
        `SELECT count(*)::int AS settled,
                count(*) FILTER (WHERE outcome = 'success')::int AS success,
                coalesce(sum(spent_sats) FILTER (WHERE outcome = 'success'), 0)::text AS volume,
                count(*) FILTER (WHERE verification_passed)::int AS passed,
                count(*) FILTER (WHERE outcome = 'defaulted')::int AS losses
           FROM runtime.credit_settlements WHERE agent_id = $1 AND settled_at > $2`,
        [agentId, since],
      ),
    ]);
    const row = history.rows[0];
    const agentHistory: AgentHistory = {
      settledCount: row?.settled ?? 0,
      successCount: row?.success ?? 0,
      successVolumeSats: Number(row?.volume ?? 0),
      verificationPassedCount: row?.passed ?? 0,
      lossCount: row?.losses ?? 0,
    };
    const terms = underwrite(agentHistory, this.policy);
    return {
      schema: 'openagents.credit.agent_exposure.v1',
      agent_id: agentId,
      open_envelope_count: open.rows[0]?.n ?? 0,
      open_exposure_sats: Number(open.rows[0]?.sats ?? 0),
      settled_count_30d: agentHistory.settledCount,
      success_volume_sats_30d: agentHistory.successVolumeSats,
      pass_rate_30d: rate(agentHistory.verificationPassedCount, agentHistory.settledCount),
      loss_count_30d: agentHistory.lossCount,
      underwriting_limit_sats: terms.limitSats,
      underwriting_fee_bps: terms.feeBps,
      requires_verifier: terms.requiresVerifier,
      computed_at: now.toISOString(),
    };
  }

  private async healthWindowCounts(db: Queryable, now: Date): Promise<HealthWindowCounts> {
    const since = new Date(now.getTime() - this.policy.healthWindowSeconds * 1000);
    const { rows } = await db.query<{ settlements: number; losses: number; ln_attempts: number; ln_failures: number }>(
      `SELECT count(*)::int AS settlements,
              count(*) FILTER (WHERE outcome = 'defaulted')::int AS losses,
              count(*) FILTER (WHERE payment_status IS NOT NULL)::int AS ln_attempts,
              count(*) FILTER (WHERE payment_status = 'failed')::int AS ln_failures
         FROM runtime.credit_settlements WHERE settled_at > $1`,
      [since],
    );
    const row = rows[0];
    return {
      settlementSample: row?.settlements ?? 0,
      lossCount: row?.losses ?? 0,
      lnPaySample: row?.ln_attempts ?? 0,
      lnFailCount: row?.ln_failures ?? 0,
    };
  }

  private assertWithinEnvelopeCap(maxSats: number): void {
    if (maxSats > this.policy.maxSatsPerEnvelope) {
      throw new ApiError('invalid_request', `max_sats ${maxSats} is above the policy cap of ${this.policy.maxSatsPerEnvelope} sats per envelope`, {
        reason_code: 'max_sats_over_policy',
        field: 'max_sats',
        max_sats_per_envelope: this.policy.maxSatsPerEnvelope,
      });
    }
  }
}

/** The fields that define an offer request; its sha256 is the offer id's source. */
export function offerRequestFingerprint(request: CreditOfferRequest, normalizedExp: string): string {
  return fingerprint({
    agent_id: request.agent_id,
    pool_id: request.pool_id,
    intent_id: request.intent_id ?? null,
    scope_type: request.scope_type,
    scope_id: request.scope_id,
    max_sats: request.max_sats,
    fee_bps: request.fee_bps,
    requires_verifier: request.requires_verifier,
    exp: normalizedExp,
  });
}

async function readIntent(db: Queryable, intentId: string): Promise<IntentRow | undefined> {
  const { rows } = await db.query<IntentRow>(`SELECT ${INTENT_COLUMNS} FROM runtime.credit_intents WHERE intent_id = $1`, [intentId]);
  return rows[0];
}

function replayIntent(stored: IntentRow, requestFingerprint: string): CreditIntent {
  if (stored.request_fingerprint !== requestFingerprint) {
    throw new ApiError('conflict', `idempotency_key ${stored.idempotency_key} was used by this agent with a different intent`, {
      reason_code: 'idempotency_key_reused',
      intent_id: stored.intent_id,
    });
  }
  return toIntent(stored);
}

async function readOffer(db: Queryable, offerId: string): Promise<OfferRow | undefined> {
  const { rows } = await db.query<OfferRow>(`SELECT ${OFFER_COLUMNS} FROM runtime.credit_offers WHERE offer_id = $1`, [offerId]);
  return rows[0];
}

/** A stored offer answers its replay only while it is still `offered` and unexpired. */
function replayOffer(stored: OfferRow, requestFingerprint: string, now: Date): CreditOffer {
  if (stored.request_fingerprint !== requestFingerprint) {
    throw new ApiError('conflict', `offer id ${stored.offer_id} is held by a different request`, { reason_code: 'offer_fingerprint_mismatch', offer_id: stored.offer_id });
  }
  if (stored.status !== 'offered') {
    throw new ApiError('conflict', `credit offer ${stored.offer_id} is ${stored.status}`, {
      reason_code: stored.status === 'accepted' ? 'offer_consumed' : 'offer_not_offered',
      offer_id: stored.offer_id,
      status: stored.status,
    });
  }
  if (stored.exp.getTime() <= now.getTime()) {
    throw new ApiError('invalid_request', `credit offer ${stored.offer_id} expired at ${stored.exp.toISOString()}`, { reason_code: 'offer_expired', offer_id: stored.offer_id });
  }
  return toOffer(stored);
}

async function readEnvelopeResponse(db: Queryable, envelopeId: string): Promise<CreditEnvelopeResponse | undefined> {
  const { rows } = await db.query<EnvelopeRow>(`SELECT ${ENVELOPE_COLUMNS} FROM runtime.credit_envelopes WHERE envelope_id = $1`, [envelopeId]);
  if (!rows[0]) return undefined;
  const receipt = await readReceipt(db, 'envelope_issued', envelopeId);
  return { schema: 'openagents.credit.envelope_response.v1', envelope: toEnvelope(rows[0]), receipt: toReceipt(receipt) };
}

async function readSettlement(db: Queryable, settlementId: string): Promise<{ row: SettlementRow; receipt: ReceiptRow } | undefined> {
  const { rows } = await db.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM runtime.credit_settlements WHERE settlement_id = $1`, [settlementId]);
  if (!rows[0]) return undefined;
  return { row: rows[0], receipt: await readReceipt(db, 'settlement', settlementId) };
}

function replaySettlement(stored: { row: SettlementRow; receipt: ReceiptRow }, requestFingerprint: string): CreditSettleResponse {
  if (stored.row.request_fingerprint !== requestFingerprint) {
    throw new ApiError('conflict', `credit envelope ${stored.row.envelope_id} was already settled by a different request`, {
      reason_code: 'settlement_request_drift',
      envelope_id: stored.row.envelope_id,
      settlement_id: stored.row.settlement_id,
      outcome: stored.row.outcome,
    });
  }
  return toSettleResponse(stored.row, stored.receipt);
}

async function readReceipt(db: Queryable, kind: ReceiptKind, subjectId: string): Promise<ReceiptRow> {
  const { rows } = await db.query<ReceiptRow>(`SELECT ${RECEIPT_COLUMNS} FROM runtime.credit_receipts WHERE kind = $1 AND subject_id = $2`, [kind, subjectId]);
  if (!rows[0]) throw new Error(`credit ${kind} receipt of ${subjectId} is missing`);
  return rows[0];
}

/** Writes a receipt whose sha256 is that of the RFC 8785 canonical JSON of its body. */
async function insertReceipt(client: PoolClient, kind: ReceiptKind, subjectId: string, body: Record<string, unknown>, issuedAt: Date): Promise<ReceiptRow> {
  const { rows } = await client.query<ReceiptRow>(
    `INSERT INTO runtime.credit_receipts (receipt_id, kind, subject_id, sha256, body, issued_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${RECEIPT_COLUMNS}`,
    [creditReceiptId(kind, subjectId), kind, subjectId, fingerprint(body), JSON.stringify(body), issuedAt],
  );
  return rows[0]!;
}
