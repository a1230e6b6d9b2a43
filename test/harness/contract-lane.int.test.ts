/**
 * "Every lane must be able to fail": contract.responses.match-schemas fails on every
 * kind of answer that breaks the contract, seen by any lane.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lane } from '../../contracts/generated/report.ts';
import type { Fault } from '../support/faulty-target.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from './gate-fixture.ts';

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('harness_contract');
});
afterAll(async () => {
  await fixture?.close();
});

const CREDIT_HEALTH = /^\/internal\/v1\/credit\/health$/;
const ID = 'contract.responses.match-schemas';

const cases: [string, Lane[], Fault[], RegExp][] = [
  // Only the contract check notices this one: credit.cep.health-fields does not read generated_at.
  ['a missing response field (credit health without generated_at)', ['credit', 'contract'], [{ method: 'GET', path: CREDIT_HEALTH, json: ({ generated_at: _, ...rest }) => rest }], /GET \/internal\/v1\/credit\/health 200: \$ missing required field generated_at/],
  ['an undocumented status (credit health 418)', ['credit', 'contract'], [{ method: 'GET', path: CREDIT_HEALTH, status: 418 }], /credit\/health 418: status not documented/],
  ['a non-JSON body under application/json (/healthz)', ['health', 'contract'], [{ method: 'GET', path: /^\/healthz$/, text: 'OK' }], /GET \/healthz 200: \$ must be object/],
  ['a wrong content-type (/internal/v1/health as text/plain)', ['health', 'contract'], [{ method: 'GET', path: /^\/internal\/v1\/health$/, after: 1, text: 'ok', contentType: 'text/plain' }], /content-type text\/plain, expected application\/json/],
  ['a body over the harness cap (/readyz answering 9 MB)', ['health', 'contract'], [{ method: 'GET', path: /^\/readyz$/, text: 'x'.repeat(9 * 1024 * 1024) }], /GET \/readyz \(in health\.\S+\): answered 200 with a body over the harness's \d+ byte cap/],
  ['an extra field where additionalProperties is false (intent)', ['credit', 'contract'], [{ method: 'POST', path: /^\/internal\/v1\/credit\/intent$/, json: (b) => (b.intent ? { ...b, debug: true } : b) }], /POST \/internal\/v1\/credit\/intent 200/],
];

describe('contract lane: every answer that breaks the contract fails contract.responses.match-schemas', () => {
  it.each(cases)('%s', async (_name, lanes, faults, reason) => {
    const run = await fixture.runFaulty(faults, { lanes, target: { expected_build_sha: 'dev' } });
    for (const [i] of faults.entries()) expect(run.proxy.applied[i], `fault ${i} was applied`).toBeGreaterThan(0);
    expectCheckFails(run, ID, reason);
  });
});

describe('contract lane: a served contract with a breaking change fails contract.served.no-breaking-changes', () => {
  it('a removed operation in /internal/v1/openapi.json is named', async () => {
    const faults: Fault[] = [
      {
        method: 'GET',
        path: /^\/internal\/v1\/openapi\.json$/,
        json: (doc) => {
          const { '/internal/v1/credit/settle': _, ...paths } = doc.paths;
          return { ...doc, paths };
        },
      },
    ];
    const run = await fixture.runFaulty(faults, { lanes: ['contract'], target: { expected_build_sha: 'dev' } });
    expect(run.proxy.applied[0]).toBeGreaterThan(0);
    expectCheckFails(run, 'contract.served.no-breaking-changes', /breaking change\(s\) in the served contract: .*\/internal\/v1\/credit\/settle/);
  });
});

/** Each operation with a body, and the path its negative requests go to. */
const NEGATIVE_CHECKS: [string, string, RegExp][] = [
  ['contract.negative.create-run', 'POST', /^\/internal\/v1\/runs$/],
  ['contract.negative.append-run-event', 'POST', /^\/internal\/v1\/runs\/[^/]+\/events$/],
  ['contract.negative.cancel-run', 'POST', /^\/internal\/v1\/runs\/[^/]+\/cancel$/],
  ['contract.negative.mint-sync-token', 'POST', /^\/internal\/v1\/sync\/token$/],
  ['contract.negative.revoke-sync-sessions', 'POST', /^\/internal\/v1\/sync\/sessions\/revoke$/],
  ['contract.negative.create-credit-intent', 'POST', /^\/internal\/v1\/credit\/intent$/],
  ['contract.negative.create-credit-offer', 'POST', /^\/internal\/v1\/credit\/offer$/],
  ['contract.negative.create-credit-envelope', 'POST', /^\/internal\/v1\/credit\/envelope$/],
  ['contract.negative.settle-credit-envelope', 'POST', /^\/internal\/v1\/credit\/settle$/],
];

describe('contract lane: an operation that answers a bad body with a 5xx or a 2xx fails its contract.negative check', () => {
  it.each(NEGATIVE_CHECKS)('%s: malformed JSON answered 500', async (id, method, path) => {
    const faults: Fault[] = [{ method, path, when: (request) => request.body === undefined && request.text.length > 0, status: 500 }];
    const run = await fixture.runFaulty(faults, { lanes: ['contract'], target: { expected_build_sha: 'dev' }, checkTimeoutMs: 20_000 });
    expect(run.proxy.applied[0]).toBeGreaterThan(0);
    expectCheckFails(run, id, /answered 500, expected 4xx/);
  });

  it('a credit intent missing its required agent_id accepted with 200 fails contract.negative.create-credit-intent', async () => {
    const missingAgent = (request: { body: any }) => typeof request.body === 'object' && request.body !== null && !Array.isArray(request.body) && !('agent_id' in request.body);
    const faults: Fault[] = [{ method: 'POST', path: /^\/internal\/v1\/credit\/intent$/, when: missingAgent, status: 200 }];
    const run = await fixture.runFaulty(faults, { lanes: ['contract'], target: { expected_build_sha: 'dev' }, checkTimeoutMs: 20_000 });
    expect(run.proxy.applied[0]).toBeGreaterThan(0);
    expectCheckFails(run, 'contract.negative.create-credit-intent', /missing.*agent_id.*answered 200, expected 4xx/);
  });
});
