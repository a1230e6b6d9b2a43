/**
 * Credit (CEP) routes (SPEC §2.1 "Credit (CEP)", §3.4). Every credit write answers 200,
 * first write and replay alike (settle: for every outcome). The route table has already
 * authenticated the request and validated it against the contract's Credit*V1 schemas.
 *
 * Credit writes move money, so they run only in `rust_active`: `read_only` and
 * `shadow_only` (a shadow runtime must not pay providers, and the contract documents no
 * 202 for credit) answer 503 `write_path_frozen`.
 */
import type { components } from '../../contracts/generated/runtime-api.ts';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import type { CreditStore } from '../credit/credit-store.ts';
import { ApiError } from '../http/api-error.ts';
import type { OperationHandler } from '../http/route-table.ts';

type CreditIntentRequest = components['schemas']['CreditIntentRequestV1'];
type CreditOfferRequest = components['schemas']['CreditOfferRequestV1'];
type CreditEnvelopeRequest = components['schemas']['CreditEnvelopeRequestV1'];
type CreditSettleRequest = components['schemas']['CreditSettleRequestV1'];
type CreditIntentResponse = components['schemas']['CreditIntentResponseV1'];
type CreditOfferResponse = components['schemas']['CreditOfferResponseV1'];

export interface CreditRouteDeps {
  config: RuntimeConfig;
  credit: CreditStore;
}

function assertCreditWritable(config: RuntimeConfig): void {
  if (config.writeMode !== 'rust_active') {
    throw new ApiError('write_path_frozen', `credit writes are frozen (RUNTIME_AUTHORITY_WRITE_MODE=${config.writeMode})`, {
      authority_write_mode: config.writeMode,
    });
  }
}

export function creditRoutes({ config, credit }: CreditRouteDeps): Record<string, OperationHandler> {
  return {
    createCreditIntent: async ({ body }) => {
      assertCreditWritable(config);
      const intent = await credit.createIntent(body as CreditIntentRequest);
      return { status: 200, body: { schema: 'openagents.credit.intent_response.v1', intent } satisfies CreditIntentResponse };
    },

    createCreditOffer: async ({ body }) => {
      assertCreditWritable(config);
      const offer = await credit.createOffer(body as CreditOfferRequest);
      return { status: 200, body: { schema: 'openagents.credit.offer_response.v1', offer } satisfies CreditOfferResponse };
    },

    createCreditEnvelope: async ({ body }) => {
      assertCreditWritable(config);
      return { status: 200, body: await credit.createEnvelope(body as CreditEnvelopeRequest) };
    },

    settleCreditEnvelope: async ({ body }) => {
      assertCreditWritable(config);
      return { status: 200, body: await credit.settle(body as CreditSettleRequest) };
    },

    getCreditHealth: async () => ({ status: 200, body: await credit.health() }),

    getCreditAgentExposure: async ({ params }) => ({ status: 200, body: await credit.agentExposure(params.agent_id!) }),
  };
}
