/**
 * The khala lane through the transport faults K2 allows (contracts/KHALA_ORDERING.md#k2):
 * a reverse proxy in front of a correct reference server duplicates frames, reorders
 * them, or cuts connections, and every required khala check still passes, because
 * delivered streams are read as a K2 consumer reads them and raw probes resume after
 * a cut. What K2 does not excuse still fails: a gap that never fills (K1, K4) and,
 * in the optional khala.k4.no-seam-duplicate, one seq in two different frames.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Check } from '../../contracts/generated/report.ts';
import { KhalaProbe } from '../../harness/khala/khala-probe.ts';
import { runGate } from '../../harness/run-gate.ts';
import { type KhalaFaultReverseProxy, type ReverseFaultPlan, startKhalaFaultReverseProxy } from '../support/khala-fault-reverse-proxy.ts';
import type { WsFault } from '../support/faulty-target.ts';
import { mintToken } from '../support/khala-fixtures.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from './gate-fixture.ts';
import { KHALA_TEST_PROFILE_ENV, khalaTestTarget } from './khala-profile.ts';

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('harness_khala_faults', KHALA_TEST_PROFILE_ENV);
});
afterAll(async () => {
  await fixture?.close();
});

/** A lane run on a loaded machine: a few seconds per run, with room to spare. */
const LANE_TIMEOUT_MS = 180_000;

async function laneThrough(plan: ReverseFaultPlan): Promise<{ checks: Check[]; decision: string; proxy: KhalaFaultReverseProxy }> {
  const proxy = await startKhalaFaultReverseProxy(fixture.upstream.url, plan);
  try {
    const run = await runGate({ candidate: fixture.candidate(proxy.url, khalaTestTarget()), lanes: ['khala'], outDir: fixture.outDir() });
    return { checks: run.report.checks, decision: run.report.decision, proxy };
  } finally {
    await proxy.close();
  }
}

function expectRequiredPassed(checks: Check[]): void {
  const notPassed = checks.filter((c) => c.required === 'required' && c.status !== 'passed').map((c) => `${c.check_id}: ${c.status} ${c.detail}`);
  expect(notPassed).toEqual([]);
  // The check K2 cannot require still holds through transport faults: copies are byte-identical.
  const seam = checks.find((c) => c.check_id === 'khala.k4.no-seam-duplicate');
  expect(seam?.required).toBe('optional');
  expect(seam?.status, seam?.detail).toBe('passed');
}

describe('khala lane through a fault-injecting reverse proxy (K2 transport faults)', () => {
  it(
    'duplicating frames only: every required check passes',
    async () => {
      const { checks, decision, proxy } = await laneThrough({ seed: 3, duplicate: 0.5 });
      expectRequiredPassed(checks);
      expect(decision).toBe('GO');
      expect(proxy.counts.duplicated).toBeGreaterThan(10);
      expect(proxy.counts.reordered + proxy.counts.cuts).toBe(0);
    },
    LANE_TIMEOUT_MS,
  );

  it(
    'reordering frames only: every required check passes',
    async () => {
      const { checks, decision, proxy } = await laneThrough({ seed: 5, reorder: 0.5 });
      expectRequiredPassed(checks);
      expect(decision).toBe('GO');
      expect(proxy.counts.reordered).toBeGreaterThan(10);
      expect(proxy.counts.duplicated + proxy.counts.cuts).toBe(0);
    },
    LANE_TIMEOUT_MS,
  );

  it(
    'cutting connections only (1006 and transport close codes): every required check passes',
    async () => {
      const { checks, decision, proxy } = await laneThrough({ seed: 9, cutAfterFrames: [1, 3], cutWith: ['terminate', 1001, 1011, 1012, 1013, 1014], maxCuts: 40 });
      expectRequiredPassed(checks);
      expect(decision).toBe('GO');
      expect(proxy.counts.cuts).toBeGreaterThan(5);
      expect(new Set(proxy.counts.cutCodes).size).toBeGreaterThan(1);
      expect(proxy.counts.duplicated + proxy.counts.reordered).toBe(0);
    },
    LANE_TIMEOUT_MS,
  );
});

describe('the lane probe resumes after transport cuts only', () => {
  it('resumes after each cut from its K2 last_applied and ends with exactly 1…N', async () => {
    const proxy = await startKhalaFaultReverseProxy(fixture.upstream.url, { seed: 1, cutAfterFrames: [1, 1], cutWith: ['terminate', 1012], maxCuts: 4 });
    // (cutAfterFrames counts update_batch frames: each of the first 4 sockets is cut right after its first batch.)
    const token = await mintToken(fixture.upstream, 'probe-owner');
    const run = await fixture.upstream.api.call('POST', '/internal/v1/runs', { headers: { 'x-oa-user-id': 'probe-owner' } });
    const runId = run.body.run.id as string;
    const topic = `run:${runId}:events`;
    const probe = await KhalaProbe.open(`${proxy.url.replace(/^http/, 'ws')}/internal/v1/khala/ws`, token, {}, 10_000, { reconnect: {} });
    try {
      probe.send({ type: 'subscribe', request_id: 'live', topics: [topic] });
      await probe.waitFor((f) => f.type === 'subscribed');
      // A burst: some writes commit while the probe is between sockets, only a resume recovers them.
      for (let i = 1; i <= 6; i++) {
        const r = await fixture.upstream.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: `p${i}`, payload: { i } } });
        expect(r.status).toBe(200);
      }
      await probe.waitFor(() => (probe.k2(topic)?.lastApplied ?? 0) >= 6, 10_000);
      expect(probe.k2(topic)?.appliedSeqs()).toEqual([1, 2, 3, 4, 5, 6]);
      // Every socket gets a batch after its resubscribe (a replay, or the empty batch of a resume at head), so all 4 cuts happen.
      await vi.waitFor(() => expect(probe.reconnects).toBe(4), { timeout: 10_000, interval: 20 });
      expect(proxy.counts.cuts).toBe(4);
      expect(probe.closeCodes.every((code) => code === 1006 || code === 1012)).toBe(true);
      expect(probe.closeCode).toBeUndefined();
      expect(probe.invalidFrames).toEqual([]);
    } finally {
      probe.close();
      await proxy.close();
    }
  });

  it('never reconnects after an application close (4001 revoked) or its own close', async () => {
    const sessionId = `probe-session-${Date.now()}`;
    const token = await mintToken(fixture.upstream, 'probe-revoked', { session_id: sessionId });
    const url = `${fixture.upstream.url.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
    const revoked = await KhalaProbe.open(url, token, {}, 10_000, { reconnect: {} });
    revoked.send({ type: 'subscribe', request_id: 's', topics: ['runtime-gate.probe.revoked'] });
    await revoked.waitFor((f) => f.type === 'subscribed');
    const r = await fixture.upstream.api.call('POST', '/internal/v1/sync/sessions/revoke', { body: { session_ids: [sessionId], reason: 'test' } });
    expect(r.status).toBe(200);
    expect(await revoked.waitClosed(5000)).toBe(4001);
    expect(revoked.reconnects).toBe(0);

    const own = await KhalaProbe.open(url, await mintToken(fixture.upstream, 'probe-own'), {}, 10_000, { reconnect: {} });
    own.close();
    expect(await own.waitClosed(5000)).toBe(1006);
    expect(own.reconnects).toBe(0);
  });
});

type Frame = any;
/** Drops seq `seq` of every run topic from every update_batch: a gap that never fills. */
const skipSeq = (seq: number): WsFault => ({ serverFrame: (f: Frame) => (f.type === 'update_batch' ? [{ ...f, updates: f.updates.filter((u: Frame) => u.seq !== seq) }] : [f]) });

describe('what K2 does not excuse still fails', () => {
  it('khala.k1.gapless-concurrent-writes: WS delivery that skips seq 7 is named', async () => {
    const run = await fixture.runFaulty([], { wsFaults: [skipSeq(7)], lanes: ['khala'], checks: ['khala.k1.gapless-concurrent-writes'], target: khalaTestTarget() });
    expectCheckFails(run, 'khala.k1.gapless-concurrent-writes', /WS replay from 0: expected seq 7 after 6, got 8 \(gap of 1\): seq 7 never arrived \(applied 1…6, then buffered 8…\d+\)/);
  });

  it('khala.k4.exact-resume: WS delivery (replay and live) that skips seq 16 is named', async () => {
    // Test profile: 20 events per resume, 13 before it and 7 written during it; k = 0 is judged first.
    const run = await fixture.runFaulty([], { wsFaults: [skipSeq(16)], lanes: ['khala'], checks: ['khala.k4.exact-resume'], target: khalaTestTarget() });
    expectCheckFails(run, 'khala.k4.exact-resume', /resume after 0 with a concurrent writer: expected seq 16 after 15, got 17 \(gap of 1\): seq 16 never arrived \(applied 1…15, then buffered 17…20\)/);
  });

  it('khala.k4.no-seam-duplicate (optional): a replayed seq sent again in a distinct frame fails it; exact-resume passes', async () => {
    const replayed = new WeakSet<object>();
    const seamDuplicate: WsFault = {
      // The first batch with updates on a connection is the replay; its last seq comes again in a live frame of its own.
      serverFrame: (f: Frame, connection) => {
        if (f.type !== 'update_batch' || f.updates.length === 0 || replayed.has(connection)) return [f];
        replayed.add(connection);
        const last = f.updates.at(-1);
        return [f, { type: 'update_batch', updates: [last], replay_complete: true, head_watermarks: { [last.topic]: last.seq } }];
      },
    };
    const run = await fixture.runFaulty([], { wsFaults: [seamDuplicate], lanes: ['khala'], checks: ['khala.k4.exact-resume', 'khala.k4.no-seam-duplicate'], target: khalaTestTarget() });
    expect(run.check('khala.k4.exact-resume').status, run.check('khala.k4.exact-resume').detail).toBe('passed');
    const seam = run.check('khala.k4.no-seam-duplicate');
    expect(seam.required).toBe('optional');
    expect(seam.status).toBe('failed');
    expect(seam.detail).toMatch(/^resume after 0: 1 seam duplicate\(s\) \(K4\): seq (?:1[3-9]|20) of run:\S+ arrived in 2 different frames on socket 1: frame #\d+ \(\d+ updates from seq 1, replay_complete true\) and frame #\d+ \(1 update from seq 1\d, replay_complete true\)/);
    expect(run.report.decision).toBe('GO');
  });
});
