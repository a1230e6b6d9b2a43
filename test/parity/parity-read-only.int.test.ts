/**
 * Read-only parity (SPEC §4 parity): without writes the lane replays the topics listed
 * in the targets' parity_topics from seq 0 on both and compares them as they stream;
 * nothing compared at all blocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/reference-server.ts';
import { describeChecks, type ParityFixture, startParityFixture } from './parity-fixture.ts';

let fixture: ParityFixture;

beforeAll(async () => {
  fixture = await startParityFixture('parity_read_only');
});
afterAll(async () => {
  await fixture?.close();
});

/** A run owned by `owner` with `count` events (payload of event i from `payload(i)`), created on one server. */
async function seedTopic(server: TestServer, owner: string, count: number, payload: (i: number) => unknown): Promise<string> {
  const created = await server.api.call('POST', '/internal/v1/runs', { headers: { 'x-oa-user-id': owner }, body: { thread_id: 'parity-read-only' } });
  const runId = created.body.run.id as string;
  for (let i = 0; i < count; i++) {
    const r = await server.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: `k${i}`, payload: payload(i) } });
    expect(r.status).toBe(200);
  }
  return `run:${runId}:events`;
}

describe('read-only parity (existing topics replayed from seq 0)', () => {
  it('equal topics compare equal with --read-only-parity (pruned history included): the scenarios are skipped (optional), parity allows, GO', async () => {
    const owner = 'legacy-user-1';
    // 250 events with retention 200: from seq 0 both answer 410 once, then replay seqs 51..250.
    const base = await seedTopic(fixture.baseline.upstream, owner, 250, (i) => ({ i, text: `step ${i}` }));
    const cand = await seedTopic(fixture.candidate.upstream, owner, 250, (i) => ({ i, text: `step ${i}` }));
    const run = await fixture.run({ gate: { parityReadOnly: true, baseline: fixture.baselineSpec({ parity_topics: [base] }) }, candidate: { parity_topics: [cand] } });
    expect(run.report.decision, describeChecks(run)).toBe('GO');
    expect(run.check('parity.replay.existing-topics')).toMatchObject({ status: 'passed', required: 'required' });
    expect(run.check('parity.scenario.happy-path')).toMatchObject({ status: 'skipped', required: 'optional' });
    expect(run.parity.mode).toBe('read_only');
    const replayed = run.parity.comparisons.filter((c) => c.status === 'compared');
    expect(replayed).toEqual([expect.objectContaining({ scenario: 'existing-topics', topic: base, candidate_topic: cand, events_compared: 201, critical: 0, warning: 0 })]);
  });

  it('a topic that differs in one payload is critical: the replay check fails, NO-GO (also with --no-writes)', async () => {
    const owner = 'legacy-user-2';
    const base = await seedTopic(fixture.baseline.upstream, owner, 30, (i) => ({ i }));
    const cand = await seedTopic(fixture.candidate.upstream, owner, 30, (i) => ({ i: i === 17 ? 'seventeen' : i }));
    const run = await fixture.run({ gate: { noWrites: true, baseline: fixture.baselineSpec({ parity_topics: [{ topic: base, owner }] }) }, candidate: { parity_topics: [{ topic: cand, owner }] } });
    expect(run.check('parity.scenario.cancel')).toMatchObject({ status: 'skipped', required: 'optional' });
    const replay = run.check('parity.replay.existing-topics');
    expect(replay.status, describeChecks(run)).toBe('failed');
    expect(replay.detail).toMatch(/message #17: \/payload\/i expected 17, got "seventeen"/);
    expect(run.parity.diffs.map((d) => d.path).sort()).toEqual(['/payload/i', '/payload_hash']);
    expect(run.report.decision).toBe('NO-GO');
  });

  it('without writes and without parity_topics nothing is compared, and parity blocks', async () => {
    const run = await fixture.run({ gate: { noWrites: true } });
    expect(run.check('parity.replay.existing-topics').detail).toMatch(/missing_input:parity_topics/);
    expect(run.check('parity.gate.decision').status).toBe('failed');
    expect(run.check('parity.gate.decision').detail).toMatch(/nothing was compared/);
    expect(run.report.decision).toBe('NO-GO');
  });
});
