/**
 * Credit writes under real concurrency against a real PostgreSQL (SPEC §3.4): requests
 * are fired together over HTTP (and, for the pay-once check, straight at the store with a
 * counting payment backend), then the database is inspected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { CreditStore } from '../../reference-server/credit/credit-store.ts';
import { type PaymentBackend, type PaymentRequest, SimulatedLightningBackend } from '../../reference-server/credit/payment-backend.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { CREDIT, createOffer, hex64, intentBody, offerBody, openEnvelope, settleBody } from './credit-fixtures.ts';

const RACERS = 12;

let db: TestDatabase;
let t: TestServer;
beforeAll(async () => {
  db = await createTestDatabase('credit_races', 40);
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

async function count(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(sql, params);
  return rows[0]!.n;
}

/** A backend that counts pay() calls and is slow enough that racers pile up behind the lock. */
class CountingBackend implements PaymentBackend {
  readonly name = 'simulated';
  readonly calls: PaymentRequest[] = [];
  private readonly inner = new SimulatedLightningBackend();
  async pay(request: PaymentRequest) {
    this.calls.push(request);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return this.inner.pay(request);
  }
}

describe('credit races', () => {
  it(`${RACERS} identical intents racing create one row and all answer it`, async () => {
    const body = intentBody();
    const results = await Promise.all(Array.from({ length: RACERS }, () => t.api.call('POST', `${CREDIT}/intent`, { body })));
    expect(results.map((r) => r.status)).toEqual(Array(RACERS).fill(200));
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM runtime.credit_intents WHERE agent_id = $1', [body.agent_id])).toBe(1);
  });

  it('identical intents racing with drifted ones: one row, the losers of the other body get 409', async () => {
    const body = intentBody();
    const drifted = { ...body, max_sats: 2 };
    const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => t.api.call('POST', `${CREDIT}/intent`, { body: i % 2 ? drifted : body })));
    const winners = results.filter((r) => r.status === 200);
    expect(results.filter((r) => r.status === 409)).toHaveLength(RACERS / 2);
    expect(winners).toHaveLength(RACERS / 2);
    expect(new Set(winners.map((r) => r.body.intent.max_sats)).size).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM runtime.credit_intents WHERE agent_id = $1', [body.agent_id])).toBe(1);
  });

  it(`${RACERS} identical offers racing create one row`, async () => {
    const body = offerBody();
    const results = await Promise.all(Array.from({ length: RACERS }, () => t.api.call('POST', `${CREDIT}/offer`, { body })));
    expect(results.map((r) => r.status)).toEqual(Array(RACERS).fill(200));
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM runtime.credit_offers WHERE agent_id = $1', [body.agent_id])).toBe(1);
  });

  it('one offer raced by several providers (each sending duplicates) is consumed by exactly one envelope', async () => {
    const offer = await createOffer(t.api);
    const providers = [hex64(), hex64(), hex64(), hex64()];
    const results = await Promise.all(
      Array.from({ length: RACERS }, (_, i) =>
        t.api.call('POST', `${CREDIT}/envelope`, { body: { schema: 'openagents.credit.envelope_request.v1', offer_id: offer.offer_id, provider_id: providers[i % providers.length] } }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    const winner = ok[0]!.body.envelope.provider_id;
    expect(ok).toHaveLength(RACERS / providers.length); // every request of the winning provider, and only those
    expect(ok.every((r) => r.body.envelope.provider_id === winner)).toBe(true);
    expect(new Set(ok.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const conflicts = results.filter((r) => r.status === 409);
    expect(conflicts).toHaveLength(RACERS - ok.length);
    expect(conflicts.every((r) => r.body.error.details.reason_code === 'offer_consumed')).toBe(true);
    expect(await count('SELECT count(*)::int AS n FROM runtime.credit_envelopes WHERE offer_id = $1', [offer.offer_id])).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM runtime.credit_receipts WHERE kind = 'envelope_issued' AND body->>'offer_id' = $1`, [offer.offer_id])).toBe(1);
  });

  it('envelopes for one agent racing over different offers never exceed the outstanding cap', async () => {
    const agentId = hex64();
    const offers = [];
    for (let i = 0; i < 8; i++) offers.push(await createOffer(t.api, { agent_id: agentId, scope_id: `job-${i}` }));
    const results = await Promise.all(
      offers.map((offer) => t.api.call('POST', `${CREDIT}/envelope`, { body: { schema: 'openagents.credit.envelope_request.v1', offer_id: offer.offer_id, provider_id: hex64() } })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = results.filter((r) => r.status === 400);
    expect(refused).toHaveLength(5);
    expect(refused.every((r) => r.body.error.details.reason_code === 'outstanding_envelopes_over_policy')).toBe(true);
    expect(await count(`SELECT count(*)::int AS n FROM runtime.credit_envelopes WHERE agent_id = $1 AND status = 'issued'`, [agentId])).toBe(3);
  });

  it(`${RACERS} settles of one envelope settle it once; every racer gets the stored result`, async () => {
    const { envelope } = await openEnvelope(t.api, { max_sats: 4000 });
    const body = settleBody(envelope.envelope_id);
    const results = await Promise.all(Array.from({ length: RACERS }, () => t.api.call('POST', `${CREDIT}/settle`, { body })));
    expect(results.map((r) => r.status)).toEqual(Array(RACERS).fill(200));
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(results[0]!.body).toMatchObject({ outcome: 'success', spent_sats: 4000 });
    expect(await count('SELECT count(*)::int AS n FROM runtime.credit_settlements WHERE envelope_id = $1', [envelope.envelope_id])).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM runtime.credit_receipts WHERE kind = 'settlement' AND body->>'envelope_id' = $1`, [envelope.envelope_id])).toBe(1);
  });

  it('settles of one envelope with two different bodies racing: one settlement, the other body gets 409', async () => {
    const { envelope } = await openEnvelope(t.api);
    const bodies = [settleBody(envelope.envelope_id), settleBody(envelope.envelope_id, { provider_invoice: 'lnfail-race' })];
    const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => t.api.call('POST', `${CREDIT}/settle`, { body: bodies[i % 2] })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(RACERS / 2);
    expect(new Set(ok.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.details.reason_code === 'settlement_request_drift')).toBe(true);
    expect(await count('SELECT count(*)::int AS n FROM runtime.credit_settlements WHERE envelope_id = $1', [envelope.envelope_id])).toBe(1);
  });

  it('concurrent settles through the store pay the provider exactly once', async () => {
    const contract = await loadOpenApiContract();
    const backend = new CountingBackend();
    const store = new CreditStore({ pool: db.pool, policy: t.config.credit.policy, paymentBackend: backend });
    const { envelope } = await openEnvelope(t.api, { max_sats: 900 });
    const body = settleBody(envelope.envelope_id) as Parameters<CreditStore['settle']>[0];
    const results = await Promise.all(Array.from({ length: RACERS }, () => store.settle(body)));
    expect(backend.calls).toHaveLength(1);
    expect(backend.calls[0]).toMatchObject({ amountSats: 900, invoice: body.provider_invoice });
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    for (const result of results) expect(contract.validateResponse('settleCreditEnvelope', 200, result)).toEqual([]);
    expect(await count('SELECT count(*)::int AS n FROM runtime.credit_settlements WHERE envelope_id = $1', [envelope.envelope_id])).toBe(1);
  });
});
