/**
 * Request builders for the credit (CEP) tests. Every call goes through the
 * contract-validating client, so each response is checked against the OpenAPI schema.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { ContractClient } from '../support/reference-server.ts';

export const CREDIT = '/internal/v1/credit';

export function hex64(): string {
  return randomBytes(32).toString('hex');
}

/** An RFC 3339 time `seconds` from now. */
export function inSeconds(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString();
}

export function intentBody(overrides: Record<string, unknown> = {}) {
  return {
    schema: 'openagents.credit.intent_request.v1',
    idempotency_key: `key-${randomBytes(4).toString('hex')}`,
    agent_id: hex64(),
    scope_type: 'nip90',
    scope_id: 'job-1',
    max_sats: 1000,
    exp: inSeconds(3600),
    ...overrides,
  };
}

export function offerBody(overrides: Record<string, unknown> = {}) {
  return {
    schema: 'openagents.credit.offer_request.v1',
    agent_id: hex64(),
    pool_id: hex64(),
    scope_type: 'nip90',
    scope_id: 'job-1',
    max_sats: 1000,
    fee_bps: 250,
    requires_verifier: true,
    exp: inSeconds(3600),
    ...overrides,
  };
}

export function settleBody(envelopeId: string, overrides: Record<string, unknown> = {}) {
  return {
    schema: 'openagents.credit.settle_request.v1',
    envelope_id: envelopeId,
    verification_passed: true,
    verification_receipt_sha256: 'a'.repeat(64),
    provider_invoice: 'lnbc10u1psimulatedinvoice',
    provider_host: 'provider.example',
    max_fee_msats: 1000,
    ...overrides,
  };
}

/** Creates an offer (200 asserted) and returns its body. */
export async function createOffer(api: ContractClient, overrides: Record<string, unknown> = {}) {
  const response = await api.call('POST', `${CREDIT}/offer`, { body: offerBody(overrides) });
  expect(response.status, response.text).toBe(200);
  return response.body.offer;
}

/** Creates an offer and accepts it for a provider; returns the offer, envelope and receipt. */
export async function openEnvelope(api: ContractClient, offerOverrides: Record<string, unknown> = {}, providerId = hex64()) {
  const offer = await createOffer(api, offerOverrides);
  const response = await api.call('POST', `${CREDIT}/envelope`, {
    body: { schema: 'openagents.credit.envelope_request.v1', offer_id: offer.offer_id, provider_id: providerId },
  });
  expect(response.status, response.text).toBe(200);
  return { offer, envelope: response.body.envelope, receipt: response.body.receipt, providerId };
}

/** Opens an envelope and settles it; returns the settle response body (200 asserted). */
export async function settleNew(api: ContractClient, settleOverrides: Record<string, unknown> = {}, offerOverrides: Record<string, unknown> = {}) {
  const { envelope } = await openEnvelope(api, offerOverrides);
  const response = await api.call('POST', `${CREDIT}/settle`, { body: settleBody(envelope.envelope_id, settleOverrides) });
  expect(response.status, response.text).toBe(200);
  return response.body;
}
