/**
 * "Every lane must be able to fail": each credit check (seed-001 CEP checks and the
 * write path) fails against a faulty proxy in front of a real reference server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lane } from '../../contracts/generated/report.ts';
import type { Fault } from '../support/faulty-target.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from './gate-fixture.ts';

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('harness_credit');
});
afterAll(async () => {
  await fixture?.close();
});

const INTENT = /^\/internal\/v1\/credit\/intent$/;
const SETTLE = /^\/internal\/v1\/credit\/settle$/;
const HEALTH = /^\/internal\/v1\/credit\/health$/;
const lanes: Lane[] = ['credit'];

const cases: [string, string, Fault[], RegExp][] = [
  ['credit.cep.served-openapi', 'served contract with the settle operation removed', [{ method: 'GET', path: /^\/internal\/v1\/openapi\.json$/, json: (doc) => ({ ...doc, paths: Object.fromEntries(Object.entries(doc.paths).filter(([p]) => !p.endsWith('/credit/settle'))) }) }], /no path ending in \/credit\/settle/],
  ['credit.cep.served-openapi', 'served contract without CreditSettleResponseV1.settlement_id', [{ method: 'GET', path: /^\/internal\/v1\/openapi\.json$/, json: (doc) => { delete doc.components.schemas.CreditSettleResponseV1.properties.settlement_id; return doc; } }], /settlement_id is missing/],
  ['credit.cep.health-fields', 'non-JSON body', [{ method: 'GET', path: HEALTH, text: 'upstream connect error or disconnect/reset before headers' }], /\$\.schema missing/],
  ['credit.cep.health-fields', 'missing response field policy.max_sats_per_envelope', [{ method: 'GET', path: HEALTH, json: (b) => ({ ...b, policy: { ...b.policy, max_sats_per_envelope: undefined } }) }], /policy\.max_sats_per_envelope missing/],
  ['credit.cep.health-fields', 'hung endpoint', [{ method: 'GET', path: HEALTH, hang: true }], /deadline/],
  ['credit.intent.idempotent-replay', 'a replay that creates a new intent_id', [{ method: 'POST', path: INTENT, when: (r) => r.body?.idempotency_key?.endsWith('-intent-1'), after: 1, times: 1, json: (b) => ({ ...b, intent: { ...b.intent, intent_id: `cepi_${'f'.repeat(24)}` } }) }], /replay created a new intent/],
  ['credit.intent.idempotent-replay', 'a drifted replay accepted with 200', [{ method: 'POST', path: INTENT, when: (r) => r.body?.idempotency_key?.endsWith('-intent-1'), after: 2, status: 200 }], /expected 409, got 200/],
  ['credit.flow.offer-envelope-settle', 'a settle replay with another settlement_id', [{ method: 'POST', path: SETTLE, when: (r) => r.body?.verification_passed === true, after: 1, times: 1, json: (b) => ({ ...b, settlement_id: `ceps_${'0'.repeat(24)}` }) }], /settle replay returned settlement ceps_0{24}, first was ceps_/],
  ['credit.flow.offer-envelope-settle', 'a settle answered 500', [{ method: 'POST', path: SETTLE, status: 500, json: () => ({ error: { code: 'internal', message: 'boom' } }) }], /expected 200, got 500/],
  ['credit.settle.failed-verification', 'a failed-verification settle that reports success', [{ method: 'POST', path: SETTLE, when: (r) => r.body?.verification_passed === false, json: (b) => ({ ...b, outcome: 'success', spent_sats: 500 }) }], /outcome success, spent_sats 500; expected failed, 0/],
  ['credit.input.rejects-bad-inputs', 'a 500 on bad input (non-hex agent_id)', [{ method: 'POST', path: INTENT, when: (r) => r.body?.agent_id === 'not-hex', status: 500, json: () => ({ error: { code: 'internal', message: 'invalid input syntax for type bytea' } }) }], /non-hex agent_id: .* expected 400, got 500/],
  ['credit.input.rejects-bad-inputs', 'a bad input accepted with 200 (max_sats 0)', [{ method: 'POST', path: INTENT, when: (r) => r.body?.max_sats === 0, status: 200, json: (_b, r) => ({ schema: 'openagents.credit.intent_response.v1', intent: { ...r.body, intent_id: `cepi_${'1'.repeat(24)}` } }) }], /max_sats 0: .* expected 400, got 200/],
  ['credit.input.rejects-bad-inputs', 'a 4xx without the error envelope', [{ method: 'POST', path: /^\/internal\/v1\/credit\/envelope$/, when: (r) => r.body?.offer_id?.startsWith('cepo_000'), text: 'Not Found', contentType: 'text/plain' }], /unknown offer: the 404 body is not the error envelope/],
];

describe('credit lane: every check can fail', () => {
  it.each(cases)('%s fails on %s', async (checkId, _name, faults, reason) => {
    const run = await fixture.runFaulty(faults, { lanes });
    for (const [i, fault] of faults.entries()) if (!fault.hang) expect(run.proxy.applied[i], `fault ${i} was applied`).toBeGreaterThan(0);
    expectCheckFails(run, checkId, reason);
  });
});
