/**
 * The credit lane (SPEC §4 "credit"): first the exact post-deploy CEP checks of
 * seed 001, then the write path — intent idempotency and drift conflict, offer →
 * envelope → settle, settle replay, failed verification, bad inputs. Settle runs only
 * on a target that declares a simulated payment backend, unless --allow-payments.
 */
import { sha256Hex } from '../../contracts/contract-files.ts';
import { type CheckContext, type CheckDefinition, CheckSkip, expectThat } from '../check-runner.ts';
import { failOnViolations } from './violations.ts';

const CREDIT = '/internal/v1/credit';

/** A deterministic 64-hex id owned by this probe run. */
function probeHex(ctx: CheckContext, label: string): string {
  return sha256Hex(`${ctx.probeId}:${label}`);
}

const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

function intent(ctx: CheckContext, key: string, maxSats = 1000) {
  return { schema: 'openagents.credit.intent_request.v1', idempotency_key: `${ctx.probeId}-${key}`, agent_id: probeHex(ctx, 'agent-intent'), scope_type: 'nip90', scope_id: `${ctx.probeId}-scope`, max_sats: maxSats, exp: inSeconds(3600) };
}

async function openEnvelope(ctx: CheckContext, label: string): Promise<string> {
  const offer = await ctx.http.request({
    method: 'POST',
    path: `${CREDIT}/offer`,
    body: { schema: 'openagents.credit.offer_request.v1', agent_id: probeHex(ctx, `agent-${label}`), pool_id: probeHex(ctx, 'pool'), scope_type: 'nip90', scope_id: `${ctx.probeId}-${label}`, max_sats: 500, fee_bps: 100, requires_verifier: true, exp: inSeconds(3600) },
  });
  expectThat(offer.status === 200, `POST ${CREDIT}/offer: expected 200, got ${offer.status}`);
  const envelope = await ctx.http.request({ method: 'POST', path: `${CREDIT}/envelope`, body: { schema: 'openagents.credit.envelope_request.v1', offer_id: offer.json.offer.offer_id, provider_id: probeHex(ctx, 'provider') } });
  expectThat(envelope.status === 200, `POST ${CREDIT}/envelope: expected 200, got ${envelope.status}`);
  return envelope.json.envelope.envelope_id as string;
}

function assertPaymentsAllowed(ctx: CheckContext): void {
  if (ctx.run.paymentBackend !== 'simulated' && !ctx.run.allowPayments) {
    throw new CheckSkip(`settle skipped: payment_backend is ${ctx.run.paymentBackend ?? 'unknown'} (pass --allow-payments to settle against a real backend)`);
  }
}

function settleBody(envelopeId: string, overrides: Record<string, unknown> = {}) {
  return { schema: 'openagents.credit.settle_request.v1', envelope_id: envelopeId, verification_passed: true, verification_receipt_sha256: 'a'.repeat(64), provider_invoice: 'lnbc10u1pruntimegateprobe', provider_host: 'provider.runtime-gate.invalid', max_fee_msats: 1000, ...overrides };
}

export function creditLane(): CheckDefinition[] {
  return [
    {
      id: 'credit.cep.served-openapi',
      lane: 'credit',
      description: 'seed 001: served openapi.json has /credit/intent, /credit/settle and CreditSettleResponseV1.properties.settlement_id',
      async run({ http }) {
        const r = await http.request({ method: 'GET', path: '/internal/v1/openapi.json' });
        expectThat(r.status === 200 && r.json, `GET /internal/v1/openapi.json: expected a JSON document, got ${r.status}`);
        const paths = Object.keys(r.json.paths ?? {});
        for (const suffix of ['/credit/intent', '/credit/settle']) {
          expectThat(paths.some((p) => p.endsWith(suffix)), `served openapi.json has no path ending in ${suffix}`);
        }
        expectThat(r.json.components?.schemas?.CreditSettleResponseV1?.properties?.settlement_id, 'served openapi.json: components.schemas.CreditSettleResponseV1.properties.settlement_id is missing');
        return 'paths /credit/intent, /credit/settle and settlement_id present';
      },
    },
    {
      id: 'credit.cep.health-fields',
      lane: 'credit',
      description: 'seed 001: GET /credit/health has schema, breakers and policy.max_sats_per_envelope',
      async run({ http }) {
        const r = await http.request({ method: 'GET', path: `${CREDIT}/health` });
        expectThat(r.status === 200, `GET ${CREDIT}/health: expected 200, got ${r.status}`);
        expectThat(typeof r.json?.schema === 'string', `GET ${CREDIT}/health: $.schema missing`);
        expectThat(r.json.breakers && typeof r.json.breakers === 'object', `GET ${CREDIT}/health: $.breakers missing`);
        expectThat(typeof r.json.policy?.max_sats_per_envelope === 'number', `GET ${CREDIT}/health: $.policy.max_sats_per_envelope missing`);
        return `breakers=${JSON.stringify(r.json.breakers)} max_sats_per_envelope=${r.json.policy.max_sats_per_envelope}`;
      },
    },
    {
      id: 'credit.intent.idempotent-replay',
      lane: 'credit',
      needsWrites: true,
      description: 'the same intent twice answers 200 with the same intent_id; drifted fields answer 409',
      async run(ctx) {
        const body = intent(ctx, 'intent-1');
        const first = await ctx.http.request({ method: 'POST', path: `${CREDIT}/intent`, body });
        const replay = await ctx.http.request({ method: 'POST', path: `${CREDIT}/intent`, body });
        expectThat(first.status === 200 && replay.status === 200, `intent then replay answered ${first.status}, ${replay.status}; expected 200, 200`);
        expectThat(first.json.intent.intent_id === replay.json.intent.intent_id, `replay created a new intent: ${first.json.intent.intent_id} then ${replay.json.intent.intent_id}`);
        const drifted = await ctx.http.request({ method: 'POST', path: `${CREDIT}/intent`, body: { ...body, max_sats: body.max_sats + 1 } });
        expectThat(drifted.status === 409, `same idempotency_key with a different max_sats: expected 409, got ${drifted.status}`);
        return `intent_id=${first.json.intent.intent_id}`;
      },
    },
    {
      id: 'credit.flow.offer-envelope-settle',
      lane: 'credit',
      needsWrites: true,
      description: 'offer → envelope → settle succeeds, and a settle replay returns the same settlement',
      async run(ctx) {
        assertPaymentsAllowed(ctx);
        const envelopeId = await openEnvelope(ctx, 'flow');
        const settle = await ctx.http.request({ method: 'POST', path: `${CREDIT}/settle`, body: settleBody(envelopeId) });
        expectThat(settle.status === 200, `POST ${CREDIT}/settle: expected 200, got ${settle.status}`);
        expectThat(settle.json.outcome === 'success', `settle outcome ${settle.json.outcome}, expected success`);
        const replay = await ctx.http.request({ method: 'POST', path: `${CREDIT}/settle`, body: settleBody(envelopeId) });
        expectThat(replay.status === 200, `settle replay: expected 200, got ${replay.status}`);
        expectThat(replay.json.settlement_id === settle.json.settlement_id, `settle replay returned settlement ${replay.json.settlement_id}, first was ${settle.json.settlement_id}`);
        return `settlement_id=${settle.json.settlement_id} spent_sats=${settle.json.spent_sats}`;
      },
    },
    {
      id: 'credit.settle.failed-verification',
      lane: 'credit',
      needsWrites: true,
      description: 'a settle with verification_passed false has outcome failed and spends nothing',
      async run(ctx) {
        assertPaymentsAllowed(ctx);
        const envelopeId = await openEnvelope(ctx, 'failed-verification');
        const settle = await ctx.http.request({ method: 'POST', path: `${CREDIT}/settle`, body: settleBody(envelopeId, { verification_passed: false }) });
        expectThat(settle.status === 200, `POST ${CREDIT}/settle: expected 200, got ${settle.status}`);
        expectThat(settle.json.outcome === 'failed' && settle.json.spent_sats === 0, `outcome ${settle.json.outcome}, spent_sats ${settle.json.spent_sats}; expected failed, 0`);
        return `settlement_id=${settle.json.settlement_id}`;
      },
    },
    {
      id: 'credit.input.rejects-bad-inputs',
      lane: 'credit',
      needsWrites: true,
      description: 'bad credit inputs (expired exp, non-hex agent_id, max_sats 0, unknown offer) answer 4xx with the error envelope',
      async run(ctx) {
        const cases: [string, string, unknown, number][] = [
          ['expired intent', `${CREDIT}/intent`, { ...intent(ctx, 'expired'), exp: inSeconds(-60) }, 400],
          ['non-hex agent_id', `${CREDIT}/intent`, { ...intent(ctx, 'bad-agent'), agent_id: 'not-hex' }, 400],
          ['max_sats 0', `${CREDIT}/intent`, { ...intent(ctx, 'zero'), max_sats: 0 }, 400],
          ['unknown offer', `${CREDIT}/envelope`, { schema: 'openagents.credit.envelope_request.v1', offer_id: `cepo_${'0'.repeat(24)}`, provider_id: probeHex(ctx, 'provider') }, 404],
        ];
        // Every case is tried: each one refused wrongly is in the evidence, not only the first.
        const problems: string[] = [];
        for (const [name, path, body, status] of cases) {
          const r = await ctx.http.request({ method: 'POST', path, body });
          if (r.status !== status) problems.push(`${name}: POST ${path} expected ${status}, got ${r.status}`);
          else if (typeof r.json?.error?.code !== 'string') problems.push(`${name}: the ${r.status} body is not the error envelope`);
        }
        failOnViolations(ctx, problems, `${problems.length} of ${cases.length} bad credit inputs not refused properly`);
        return `${cases.length} bad inputs rejected`;
      },
    },
  ];
}
