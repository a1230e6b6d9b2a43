/**
 * Deterministic credit ids and request fingerprints (SPEC §3.4).
 *
 * - `intent_id  = "cepi_" + sha256(agent_id + ":" + idempotency_key)[0:24]`
 * - `offer_id   = "cepo_" + sha256(canonical offer request fingerprint)[0:24]`
 * - `envelope_id = "cepe_" + sha256(canonical {offer_id, provider_id})[0:24]`
 * - `settlement_id = "ceps_" + sha256(canonical {envelope_id})[0:24]` — an envelope is
 *   settled at most once, so its id is what makes a settlement unique; the rest of the
 *   settle request is its fingerprint, compared on replay.
 *
 * A fingerprint is the lowercase hex sha256 of the RFC 8785 canonical JSON of the fields
 * that define a request (times normalized to one RFC 3339 spelling first).
 */
import { sha256Hex } from '../../contracts/contract-files.ts';
import { payloadHash } from '../../contracts/payload-hash.ts';

const ID_HEX_LENGTH = 24;

/** sha256 of the RFC 8785 canonical JSON of value: the same digest as K3's payload_hash. */
export const fingerprint = payloadHash;

export function creditIntentId(agentId: string, idempotencyKey: string): string {
  return `cepi_${sha256Hex(`${agentId}:${idempotencyKey}`).slice(0, ID_HEX_LENGTH)}`;
}

/** offerFingerprint is the request fingerprint of the offer (see offerRequestFingerprint in credit-store.ts). */
export function creditOfferId(offerFingerprint: string): string {
  return `cepo_${offerFingerprint.slice(0, ID_HEX_LENGTH)}`;
}

export function creditEnvelopeId(offerId: string, providerId: string): string {
  return `cepe_${fingerprint({ offer_id: offerId, provider_id: providerId }).slice(0, ID_HEX_LENGTH)}`;
}

export function creditSettlementId(envelopeId: string): string {
  return `ceps_${fingerprint({ envelope_id: envelopeId }).slice(0, ID_HEX_LENGTH)}`;
}

/** Receipts are one per (kind, subject): envelope issuance, settlement. */
export function creditReceiptId(kind: 'envelope_issued' | 'settlement', subjectId: string): string {
  return `cepr_${fingerprint({ kind, subject_id: subjectId }).slice(0, ID_HEX_LENGTH)}`;
}

/**
 * Normalizes an RFC 3339 time (already validated as `date-time` by the contract) to the
 * ISO 8601 UTC spelling with milliseconds; undefined when JavaScript cannot represent it
 * (e.g. a leap second), which callers turn into a 400.
 */
export function normalizeTime(rfc3339: string): string | undefined {
  const ms = Date.parse(rfc3339);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
