/**
 * The payment backend a credit settlement pays the provider through (SPEC §3.4), and the
 * reference implementation: a deterministic simulated Lightning node
 * (RUNTIME_PAYMENT_BACKEND=simulated).
 */
import { createHash } from 'node:crypto';

export interface PaymentRequest {
  /** The provider's BOLT11 invoice. */
  invoice: string;
  /** Amount to pay: the envelope's committed sats. */
  amountSats: number;
  /** Routing fee budget; a route above it is not taken. */
  maxFeeMsats: number;
  /** Settlement the payment belongs to (its idempotency key at the backend). */
  settlementId: string;
}

/**
 * What the backend answered. Stored as the liquidity receipt of the settlement, whose
 * sha256 (of the canonical JSON) is `liquidity_receipt_sha256`.
 */
export interface PaymentResult {
  backend: string;
  status: 'paid' | 'failed';
  payment_hash: string;
  /** Proof of payment; null when the payment failed. */
  preimage: string | null;
  amount_msats: number;
  fee_paid_msats: number;
  /** Why the payment failed; null when it was paid. */
  failure_reason: string | null;
}

/**
 * A Lightning payment backend. pay() resolves with `failed` for a payment the network
 * refused (a credit default); it rejects only when the backend itself is broken, in
 * which case the settlement is not recorded.
 */
export interface PaymentBackend {
  readonly name: string;
  pay(request: PaymentRequest): Promise<PaymentResult>;
}

function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Invoices starting with this prefix (case-insensitive) fail to pay in the simulated node. */
export const SIMULATED_FAILING_INVOICE_PREFIX = 'lnfail';

/**
 * Deterministic simulated Lightning node: every payment goes over a direct channel (routing
 * fee 0 msats, always within max_fee_msats) and succeeds, except an invoice beginning
 * `lnfail`, which fails with `no_route`. The preimage is derived from the settlement id and
 * the invoice, and payment_hash = sha256(preimage), so a retried payment is the same payment.
 */
export class SimulatedLightningBackend implements PaymentBackend {
  readonly name = 'simulated';

  async pay(request: PaymentRequest): Promise<PaymentResult> {
    const preimage = sha256(`simulated-ln-preimage:${request.settlementId}:${request.invoice}`);
    const paymentHash = sha256(preimage).toString('hex');
    const amountMsats = request.amountSats * 1000;
    if (request.invoice.toLowerCase().startsWith(SIMULATED_FAILING_INVOICE_PREFIX)) {
      return { backend: this.name, status: 'failed', payment_hash: paymentHash, preimage: null, amount_msats: amountMsats, fee_paid_msats: 0, failure_reason: 'no_route' };
    }
    return { backend: this.name, status: 'paid', payment_hash: paymentHash, preimage: preimage.toString('hex'), amount_msats: amountMsats, fee_paid_msats: 0, failure_reason: null };
  }
}

/** The backend RUNTIME_PAYMENT_BACKEND names. */
export function createPaymentBackend(name: 'simulated'): PaymentBackend {
  switch (name) {
    case 'simulated':
      return new SimulatedLightningBackend();
  }
}
