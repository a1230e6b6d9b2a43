/**
 * The parity lane against two real reference servers (two databases): identical targets
 * allow and GO; a candidate that changes one thing — a status code, a missing event, an
 * error message — is found, classified by contracts/parity-policy.json, and gated by
 * --max-warnings / --block-on-critical.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeChecks, type ParityFixture, startParityFixture } from './parity-fixture.ts';

let fixture: ParityFixture;

beforeAll(async () => {
  fixture = await startParityFixture('parity_lane');
});
afterAll(async () => {
  await fixture?.close();
});

describe('parity lane', () => {
  it('identical targets: every scenario compares equal, parity allows, GO', async () => {
    const run = await fixture.run();
    expect(run.report.decision, describeChecks(run)).toBe('GO');
  });
});
