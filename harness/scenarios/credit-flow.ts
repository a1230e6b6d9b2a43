/**
 * Parity scenario `credit-flow` (CEP, SPEC §3.4): intent (and its idempotent replay and a
 * drifted replay), offer → envelope → settle on the simulated payment backend, settle
 * replay, a failed verification, a failing invoice, and the agent's exposure. Inputs are
 * seeded and the time base is shared, so both targets derive the same deterministic ids.
 * Settles run only when both targets declare a simulated backend, unless --allow-payments.
 */
import { sha256Hex } from '../../contracts/contract-files.ts';
import { call, INTERNAL, need, type ParityScenario, type ScenarioSide } from './scenario.ts';

const CREDIT = `${INTERNAL}/credit`;

function hex(side: ScenarioSide, label: string): string {
  return sha256Hex(`${side.inputs.probeId}:parity:${label}`);
}

function at(side: ScenarioSide, seconds: number): string {
  return new Date(Math.floor(side.inputs.now / 1000) * 1000 + seconds * 1000).toISOString();
}

/** Offer (bound to an intent when given: same agent and scope) then envelope; the envelope id or undefined. */
async function openEnvelope(side: ScenarioSide, label: string, agentId: string, intent?: { id: string; scopeId: string }): Promise<string | undefined> {
  const offer = await call(side, `offer ${label}`, {
    method: 'POST',
    path: `${CREDIT}/offer`,
    body: {
      schema: 'openagents.credit.offer_request.v1',
      agent_id: agentId,
      pool_id: hex(side, 'pool'),
      ...(intent ? { intent_id: intent.id } : {}),
      scope_type: 'nip90',
      scope_id: intent ? intent.scopeId : `${side.inputs.probeId}-${label}`,
      max_sats: side.random.int(100, 900),
      fee_bps: side.random.int(0, 500),
      requires_verifier: true,
      exp: at(side, 3600),
    },
  });
  const offerId = offer?.json?.offer?.offer_id;
  if (typeof offerId !== 'string') return undefined;
  const envelope = await call(side, `envelope ${label}`, { method: 'POST', path: `${CREDIT}/envelope`, body: { schema: 'openagents.credit.envelope_request.v1', offer_id: offerId, provider_id: hex(side, 'provider') } });
  await call(side, `envelope ${label} reused offer`, { method: 'POST', path: `${CREDIT}/envelope`, body: { schema: 'openagents.credit.envelope_request.v1', offer_id: offerId, provider_id: hex(side, 'other-provider') } });
  const envelopeId = envelope?.json?.envelope?.envelope_id;
  return typeof envelopeId === 'string' ? envelopeId : undefined;
}

function settleBody(side: ScenarioSide, envelopeId: string, overrides: Record<string, unknown> = {}) {
  return {
    schema: 'openagents.credit.settle_request.v1',
    envelope_id: envelopeId,
    verification_passed: true,
    verification_receipt_sha256: hex(side, `receipt-${envelopeId}`),
    provider_invoice: 'lnbc10u1pruntimegateparity',
    provider_host: 'provider.runtime-gate.invalid',
    max_fee_msats: 1000,
    ...overrides,
  };
}

export const creditFlowScenario: ParityScenario = {
  name: 'credit-flow',
  description: 'intent (replay, drift 409), offer → envelope → settle (success, replay, failed verification, failing invoice), exposure',
  skipReason: ({ paymentBackends, allowPayments }) =>
    !allowPayments && (paymentBackends.baseline !== 'simulated' || paymentBackends.candidate !== 'simulated')
      ? `settles need a simulated payment backend on both targets (baseline ${paymentBackends.baseline ?? 'unknown'}, candidate ${paymentBackends.candidate ?? 'unknown'}); pass --allow-payments to settle anyway`
      : undefined,
  async run(side) {
    const agentId = hex(side, 'agent');
    const intentBody = { schema: 'openagents.credit.intent_request.v1', idempotency_key: `${side.inputs.probeId}-parity-intent`, agent_id: agentId, scope_type: 'nip90', scope_id: `${side.inputs.probeId}-scope`, max_sats: side.random.int(1000, 5000), exp: at(side, 3600) };
    const intent = await call(side, 'intent', { method: 'POST', path: `${CREDIT}/intent`, body: intentBody });
    await call(side, 'intent replay', { method: 'POST', path: `${CREDIT}/intent`, body: intentBody });
    await call(side, 'intent drifted replay', { method: 'POST', path: `${CREDIT}/intent`, body: { ...intentBody, max_sats: intentBody.max_sats + 1 } });
    const intentId = typeof intent?.json?.intent?.intent_id === 'string' ? intent.json.intent.intent_id : undefined;

    const envelopeId = await openEnvelope(side, 'flow', agentId, intentId ? { id: intentId, scopeId: intentBody.scope_id } : undefined);
    need(envelopeId, 'envelope flow');
    await call(side, 'settle', { method: 'POST', path: `${CREDIT}/settle`, body: settleBody(side, envelopeId) });
    await call(side, 'settle replay', { method: 'POST', path: `${CREDIT}/settle`, body: settleBody(side, envelopeId) });

    const failedId = await openEnvelope(side, 'failed-verification', agentId);
    need(failedId, 'envelope failed-verification');
    await call(side, 'settle failed verification', { method: 'POST', path: `${CREDIT}/settle`, body: settleBody(side, failedId, { verification_passed: false }) });

    const defaultedId = await openEnvelope(side, 'failing-invoice', agentId);
    need(defaultedId, 'envelope failing-invoice');
    await call(side, 'settle failing invoice', { method: 'POST', path: `${CREDIT}/settle`, body: settleBody(side, defaultedId, { provider_invoice: 'lnfailruntimegateparity' }) });

    await call(side, 'exposure', { method: 'GET', path: `${CREDIT}/agents/${agentId}/exposure` });
  },
};
