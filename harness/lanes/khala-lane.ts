/**
 * The khala lane (SPEC §4 "khala"): the ordering rules K1–K9 of
 * contracts/KHALA_ORDERING.md as checks against any target, through raw frame
 * probes, the harness's own KhalaClient (a correct consumer) and the fault-injecting
 * proxy (transport faults K2 allows). A delivered stream is judged as a K2 consumer
 * reads it (khala/k2-reader.ts: duplicates discarded, reordering buffered, a gap that
 * never fills named), since K2 lets any transport between the harness and the target
 * duplicate and reorder frames; probes resume after transport cuts. What K2 does not
 * excuse is judged on the raw frames: K3 hashes of every arrival, the order of updates
 * within one batch, and K4's seam duplicates (khala.k4.no-seam-duplicate). Boundary checks (K6,
 * publish limits) live in khala-boundary-checks.ts, the token/origin/scope/revocation
 * threat model in khala-threat-checks.ts.
 */
import type { ErrorFrame, KhalaUpdate } from '../../contracts/generated/khala-frames.ts';
import { type CheckContext, type CheckDefinition, CheckSkip, expectThat } from '../check-runner.ts';
import { type FaultCounts, type FaultPlan, KhalaFaultProxy } from '../khala/fault-proxy.ts';
import type { Observation } from '../khala/observation-ledger.ts';
import type { LaneInputs } from './lane.ts';
import { khalaBoundaryChecks } from './khala-boundary-checks.ts';
import {
  type AppendedEvent,
  appliedLedger,
  appendEvent,
  appendEvents,
  createRun,
  deliveryNotes,
  expectDelivered,
  expectExactSequence,
  expectReplayCompletePattern,
  observations,
  pollAll,
  pollPage,
  probeUpdates,
  resumeOutcome,
  runEventsLimits,
  type SocketScope,
  seamDuplicates,
  sseLedger,
  syncToken,
  waitForSeq,
  withSockets,
  wsUrlOf,
} from './khala-support.ts';
import { khalaThreatChecks } from './khala-threat-checks.ts';

/** Anomalies a correct consumer may see under allowed transport faults; anything else fails K2. */
const TOLERATED_ANOMALIES = new Set(['duplicate', 'out_of_order', 'gap', 'disconnect']);

/** A topic size that a WS resume from 0 may replay on this target (≤ budget and retention). */
async function replayableSize(ctx: CheckContext, wanted: number): Promise<number> {
  const limits = await runEventsLimits(ctx);
  return Math.max(2, Math.min(wanted, limits.replay_budget_events, limits.retention_events));
}

/**
 * Replays `topic` from 0 on a raw probe until `head`: records every raw arrival for K3
 * and returns the ledger a K2 consumer applied, checked to be exactly 1…head.
 */
async function replayFromZero(scope: SocketScope, ctx: CheckContext, token: string, topic: string, head: number, url?: string, label = 'WS replay from 0'): Promise<Observation[]> {
  const started = performance.now();
  const probe = await scope.resume(token, topic, 0, undefined, url);
  const outcome = await resumeOutcome(probe, topic);
  expectThat(outcome.type === 'update_batch', `resume ${topic} from 0 (head ${head}) was refused: ${JSON.stringify(outcome).slice(0, 300)}`);
  if (head > 0) await waitForSeq(probe, topic, head);
  // report.html's replay series: time from the subscribe to the head, per replay from 0.
  const replays = ctx.run.latencies['khala: WS replay from seq 0 to head'] ?? [];
  replays.push(performance.now() - started);
  ctx.run.latencies['khala: WS replay from seq 0 to head'] = replays;
  observations(ctx).recordAll(`ws replay ${url ?? ''} ${topic}`.replace(/ +/g, ' '), probeUpdates(probe, topic));
  expectDelivered(label, probe, topic, 1, head);
  return appliedLedger(probe, topic);
}

/** Names the first place two ledgers differ as (seq, payload_hash) lists. */
function expectSameLedger(label: string, expected: { seq: number; payload_hash: string }[], actual: { seq: number; payload_hash: string }[]): void {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const want = expected[i];
    const got = actual[i];
    expectThat(want && got && want.seq === got.seq && want.payload_hash === got.payload_hash, `${label}: entry ${i} differs: expected ${want ? `seq ${want.seq} ${want.payload_hash.slice(0, 12)}…` : 'nothing'}, got ${got ? `seq ${got.seq} ${got.payload_hash.slice(0, 12)}…` : 'nothing'}`);
  }
}

const k1GaplessConcurrentWrites: CheckDefinition = {
  id: 'khala.k1.gapless-concurrent-writes',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K1: concurrent writers with idempotent replays and 409 conflicts produce exactly seqs 1…N·M; every poll page taken meanwhile is contiguous',
  async run(ctx) {
    const total = await replayableSize(ctx, 40);
    const writers = 4;
    const perWriter = Math.max(1, Math.floor(total / writers));
    const { runId, topic } = await createRun(ctx);
    const token = await syncToken(ctx, ctx.probeId);
    const writes: AppendedEvent[] = [];
    const pageProblems: string[] = [];
    let pages = 0;
    let writing = true;
    const poller = (async () => {
      while (writing && pages < 500) {
        const r = await pollPage(ctx, topic, token, 0, 1000);
        pages += 1;
        if (r.status !== 200) pageProblems.push(`poll during writes answered ${r.status}`);
        else {
          const seqs = (r.json.messages as { seq: number }[]).map((m) => m.seq);
          if (seqs.some((seq, i) => seq !== i + 1)) pageProblems.push(`poll after_seq=0 during writes returned [${seqs.join(',')}]`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            const key = `${ctx.probeId}-k1-${w}-${i}`;
            const body = { idempotency_key: key, payload: { writer: w, i } };
            const r = await appendEvent(ctx, runId, body);
            expectThat(r.status === 200, `writer ${w} append ${i}: expected 200, got ${r.status}`);
            writes.push({ seq: r.json.event.seq, payload_hash: r.json.event.payload_hash });
            if (i % 3 === 0) {
              const replay = await appendEvent(ctx, runId, body);
              expectThat(replay.status === 200 && replay.json.event.seq === r.json.event.seq && replay.json.event.payload_hash === r.json.event.payload_hash, `writer ${w}: an idempotent replay of seq ${r.json.event.seq} answered ${replay.status} seq ${replay.json?.event?.seq}`);
            }
            if (i % 4 === 1) {
              const conflict = await appendEvent(ctx, runId, { idempotency_key: key, payload: { writer: w, i, drifted: true } });
              expectThat(conflict.status === 409, `writer ${w}: a reused idempotency key with another body answered ${conflict.status}, expected 409`);
            }
          }
        }),
      );
    } finally {
      writing = false;
      await poller;
    }
    const committed = writers * perWriter;
    expectExactSequence('seqs acknowledged to the writers', writes.map((w) => w.seq).sort((a, b) => a - b), 1, committed);
    expectThat(pageProblems.length === 0, `${pageProblems.length} non-contiguous poll page(s): ${pageProblems.slice(0, 3).join('; ')}`);
    const bySeq = [...writes].sort((a, b) => a.seq - b.seq).map((w) => ({ topic, ...w }));
    observations(ctx).recordAll(`write responses ${topic}`, bySeq);
    const polled = await pollAll(ctx, topic, token);
    expectSameLedger('HTTP poll ledger vs acknowledged writes', bySeq, polled);
    await withSockets(ctx, async (scope) => {
      const replayed = await replayFromZero(scope, ctx, token, topic, committed);
      expectSameLedger('WS replay ledger (as a K2 consumer applies it) vs acknowledged writes', bySeq, replayed);
    });
    return `${writers} writers × ${perWriter} appends (+ idempotent replays and 409 conflicts): seqs 1…${committed} gapless on writes, poll and WS; ${pages} poll pages during the writes were contiguous`;
  },
};

/**
 * Runs the KhalaClient through a fault proxy while events are written live; returns what it applied.
 * `proven` says when the proxy injected enough faults to prove something: until then (bounded)
 * more events are written, since a transport in front of the target may cut connections
 * before the proxy had its chance.
 */
async function consumeThroughFaults(ctx: CheckContext, plan: FaultPlan, label: string, proven: (counts: FaultCounts) => boolean): Promise<{ summary: string; counts: FaultCounts }> {
  const total = await replayableSize(ctx, 30);
  const { runId, topic } = await createRun(ctx);
  const token = await syncToken(ctx, ctx.probeId);
  const before = Math.floor(total / 2);
  await appendEvents(ctx, runId, before, `${label}-a`);
  return withSockets(ctx, async (scope) => {
    const proxy = new KhalaFaultProxy(wsUrlOf(ctx.target), plan);
    const url = await proxy.start();
    scope.adopt(() => proxy.stop());
    const applied: KhalaUpdate[] = [];
    const client = scope.client({ url, token, topics: [topic], gapTimeoutMs: 300, reconnect: { initialDelayMs: 20, maxDelayMs: 250 }, onApply: (update) => applied.push(update) });
    await client.start();
    for (let i = 0; i < total - before; i++) {
      await appendEvent(ctx, runId, { idempotency_key: `${ctx.probeId}-${label}-b-${i}`, payload: { label, i } });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // A reordering proxy may hold the last frame until another one comes: keep writing
    // (bounded) until the consumer has caught up with everything acknowledged, and the
    // proxy has injected the faults the check is about.
    let head = total;
    for (let extra = 0; (client.lastApplied(topic) < total || !proven(proxy.counts)) && extra < 40; extra++) {
      const r = await appendEvent(ctx, runId, { idempotency_key: `${ctx.probeId}-${label}-tail-${extra}`, payload: { label, tail: extra } });
      if (r.status === 200) head = r.json.event.seq;
      await client.waitForSeq(topic, Math.max(total, head), 250).catch(() => undefined);
    }
    expectThat(client.lastApplied(topic) >= total, `the client applied up to seq ${client.lastApplied(topic)} of ${total} (anomalies: ${client.anomalies.slice(-5).map((a) => `${a.kind}: ${a.detail}`).join('; ')})`);
    const bad = client.anomalies.filter((a) => !TOLERATED_ANOMALIES.has(a.kind));
    expectThat(bad.length === 0, `the client saw ${bad.length} anomalies a correct target never causes: ${bad.slice(0, 3).map((a) => `${a.kind} ${a.topic ?? ''} ${a.seq ?? ''}: ${a.detail}`).join('; ')}`);
    const clientLedger = applied.map((u) => ({ topic, seq: u.seq, payload_hash: u.payload_hash, payload: u.payload }));
    observations(ctx).recordAll(`client via fault proxy (${label}) ${topic}`, clientLedger);
    // The client's own applied ledger: exact, it has already done the K2 reading.
    expectExactSequence('seqs the client applied', clientLedger.map((u) => u.seq), 1, client.lastApplied(topic));
    const oracle = (await pollAll(ctx, topic, token, 100)).slice(0, clientLedger.length);
    expectSameLedger('applied ledger vs HTTP poll', oracle, clientLedger);
    const c = proxy.counts;
    const summary = `applied seqs 1…${client.lastApplied(topic)} (head ${head}) exactly once through ${c.connections} connection(s): ${c.forwarded} frames forwarded, ${c.duplicated} duplicated, ${c.reordered} reordered, ${c.delayed} delayed, ${c.dropped} dropped`;
    return { summary, counts: { ...c } };
  });
}

const k2DuplicateTolerance: CheckDefinition = {
  id: 'khala.k2.duplicate-tolerance',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K2: with update frames duplicated by the fault proxy, the Khala client applies each seq exactly once and its ledger equals the HTTP ledger',
  async run(ctx) {
    const proven = (counts: FaultCounts) => counts.duplicated > 0;
    const { summary, counts } = await consumeThroughFaults(ctx, { duplicate: 0.5, seed: 11 }, 'k2dup', proven);
    expectThat(proven(counts), `the proxy duplicated no frame, so the check proved nothing: ${summary}`);
    return summary;
  },
};

const k2ReorderTolerance: CheckDefinition = {
  id: 'khala.k2.reorder-tolerance',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K2: with frames reordered, delayed and the connection dropped mid-stream, the Khala client resumes and ends with the exact ledger',
  async run(ctx) {
    // A drop proves the client resumed; the target's own transport may have cut the connection first (then the client reconnected through the proxy).
    const proven = (counts: FaultCounts) => counts.reordered > 0 && (counts.dropped > 0 || counts.connections > 1);
    const { summary, counts } = await consumeThroughFaults(ctx, { reorder: 0.3, delayMs: [0, 3], dropAfterFrames: [4, 7], seed: 7 }, 'k2reorder', proven);
    expectThat(proven(counts), `the proxy injected too few faults to prove anything: ${summary}`);
    return summary;
  },
};

const k3PayloadHashImmutable: CheckDefinition = {
  id: 'khala.k3.payload-hash-immutable',
  lane: 'khala',
  needsWrites: true,
  phase: 'last',
  timeoutMs: 60_000,
  description: 'K3: every observation of a (topic, seq) — write, live, replay, reconnect, HTTP poll, SSE, nodes — carries one payload_hash, equal to the hash of its payload',
  async run(ctx) {
    const { runId, topic } = await createRun(ctx);
    const token = await syncToken(ctx, ctx.probeId);
    const ledger = observations(ctx);
    await withSockets(ctx, async (scope) => {
      const live = await scope.probe(token);
      live.send({ type: 'subscribe', request_id: 'live', topics: [topic] });
      await live.waitFor((f) => f.type === 'subscribed');
      const writes = await appendEvents(ctx, runId, 5, 'k3');
      ledger.recordAll(`write responses ${topic}`, writes.map((w) => ({ topic, ...w })));
      await waitForSeq(live, topic, 5);
      ledger.recordAll(`ws live ${topic}`, probeUpdates(live, topic));
      expectDelivered('live updates', live, topic, 1, 5);
      await replayFromZero(scope, ctx, token, topic, 5);
      const reconnect = await scope.resume(token, topic, 2);
      await waitForSeq(reconnect, topic, 5);
      ledger.recordAll(`ws reconnect after 2 ${topic}`, probeUpdates(reconnect, topic));
      expectDelivered('resume after 2', reconnect, topic, 3, 5);
    });
    await pollAll(ctx, topic, token, 2);
    expectThat((await sseLedger(ctx, runId)).length === 5, 'SSE from cursor 0 did not return the 5 events');
    expectThat(ledger.conflictCount === 0, `${ledger.conflictCount} disagreement(s): ${ledger.conflicts.slice(0, 5).join('; ')}`);
    return `${ledger.observations} observations of ${ledger.topics} topics (writes, live, replay, reconnect, poll, SSE, and every other khala check) agree and match their payloads`;
  },
};

/** Sizes of K4's resumes: history written before, writes during the resume. */
async function k4Sizes(ctx: CheckContext): Promise<{ history: number; during: number; cursors: number[] }> {
  const size = await replayableSize(ctx, 34);
  const history = Math.max(2, Math.floor((size * 2) / 3));
  const during = Math.max(1, size - history);
  return { history, during, cursors: [0, Math.floor(history / 2), history - 1] };
}

/** A fresh topic with `history` events, resumed at k on a raw probe while `during` more are written; waits for the final seq. */
async function resumeWhileWriting(ctx: CheckContext, scope: SocketScope, k: number, history: number, during: number, label: string) {
  const { runId, topic } = await createRun(ctx);
  const token = await syncToken(ctx, ctx.probeId);
  await appendEvents(ctx, runId, history, `${label}-${k}`);
  const writer = appendEvents(ctx, runId, during, `${label}-${k}-live`);
  const probe = await scope.resume(token, topic, k);
  await writer;
  const final = history + during;
  await waitForSeq(probe, topic, final);
  observations(ctx).recordAll(`ws resume after ${k} ${topic}`, probeUpdates(probe, topic));
  return { probe, topic, final };
}

const k4ExactResume: CheckDefinition = {
  id: 'khala.k4.exact-resume',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K4: resume at k ∈ {0, mid, H−1} while a writer appends yields k+1…final with nothing missing, read as a K2 consumer (duplicates discarded, reordering buffered); replay_complete false…true in seq order',
  async run(ctx) {
    const { history, during, cursors } = await k4Sizes(ctx);
    const results: string[] = [];
    for (const k of cursors) {
      await withSockets(ctx, async (scope) => {
        const { probe, topic, final } = await resumeWhileWriting(ctx, scope, k, history, during, 'k4');
        expectDelivered(`resume after ${k} with a concurrent writer`, probe, topic, k + 1, final);
        expectReplayCompletePattern(probe, topic);
        results.push(`k=${k}: ${k + 1}…${final}${deliveryNotes(probe, topic)}`);
      });
    }
    return `exact resume with ${during} concurrent writes: ${results.join('; ')}`;
  },
};

/** After the final seq, how long the seam check waits for anything still in flight. */
const SEAM_SETTLE_MS = 100;

const k4NoSeamDuplicate: CheckDefinition = {
  id: 'khala.k4.no-seam-duplicate',
  lane: 'khala',
  needsWrites: true,
  // K2 lets a server deliver an update more than once, so this cannot be required (KHALA_ORDERING.md K4).
  optional: true,
  timeoutMs: 60_000,
  description: 'K4 (optional: K2 allows redelivery): resuming at k ∈ {0, mid, H−1} while a writer appends, no (topic, seq) arrives in two different frames on one socket; byte-identical frame copies are transport duplicates and ignored',
  async run(ctx) {
    const { history, during, cursors } = await k4Sizes(ctx);
    const results: string[] = [];
    for (const k of cursors) {
      await withSockets(ctx, async (scope) => {
        const { probe, topic, final } = await resumeWhileWriting(ctx, scope, k, history, during, 'k4seam');
        // A seam duplicate may trail the final seq: give it a moment to arrive.
        await new Promise((resolve) => setTimeout(resolve, SEAM_SETTLE_MS));
        expectDelivered(`resume after ${k} with a concurrent writer`, probe, topic, k + 1, final);
        const { seam, transportCopies } = seamDuplicates(probe, topic);
        if (seam.length) ctx.evidence(seam);
        expectThat(seam.length === 0, `resume after ${k}: ${seam.length} seam duplicate(s) (K4): ${seam.slice(0, 2).join('; ')}`);
        results.push(`k=${k}: ${k + 1}…${final}, each seq in one frame${transportCopies ? ` (${transportCopies} byte-identical frame cop${transportCopies === 1 ? 'y' : 'ies'} ignored as transport duplicates)` : ''}`);
      });
    }
    return `no seam duplicate with ${during} concurrent writes: ${results.join('; ')}`;
  },
};

async function expectResumeAtHead(ctx: CheckContext, scope: SocketScope, token: string, runId: string, topic: string, head: number): Promise<void> {
  const probe = await scope.resume(token, topic, head);
  const outcome = await resumeOutcome(probe, topic);
  expectThat(outcome.type === 'update_batch', `resume at head ${head} of ${topic} was refused: ${JSON.stringify(outcome).slice(0, 300)}`);
  expectThat(outcome.updates.length === 0 && outcome.replay_complete && outcome.head_watermarks[topic] === head, `resume at head ${head}: expected one empty batch with replay_complete true and head_watermarks ${head}, got ${JSON.stringify(outcome).slice(0, 300)}`);
  await appendEvents(ctx, runId, 1, `k5-next-${head}`);
  await waitForSeq(probe, topic, head + 1);
  expectDelivered(`after a resume at head ${head} the next write`, probe, topic, head + 1, head + 1);
}

const k5ResumeAtHead: CheckDefinition = {
  id: 'khala.k5.resume-at-head',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K5: a resume with k = H (H = 0, H > 0, and after pruning on a test profile) gets one empty replay_complete batch, then H+1 live',
  async run(ctx) {
    const token = await syncToken(ctx, ctx.probeId);
    const cases: string[] = [];
    await withSockets(ctx, async (scope) => {
      const fresh = await createRun(ctx);
      await expectResumeAtHead(ctx, scope, token, fresh.runId, fresh.topic, 0);
      cases.push('H=0');
      const small = await createRun(ctx);
      await appendEvents(ctx, small.runId, 3, 'k5-small');
      await expectResumeAtHead(ctx, scope, token, small.runId, small.topic, 3);
      cases.push('H=3');
      if (ctx.target.profile === 'test') {
        const { retention_events: retention } = await runEventsLimits(ctx);
        expectThat(retention <= 500, `profile test declares run_events retention ${retention}: too large to prune within a bounded check`);
        const pruned = await createRun(ctx);
        const head = retention + 5;
        await appendEvents(ctx, pruned.runId, head, 'k5-pruned');
        const window = await pollPage(ctx, pruned.topic, token, head);
        expectThat(window.status === 200 && window.json.oldest_available_seq > 1, `after ${head} writes with retention ${retention}, poll reports oldest_available_seq ${window.json?.oldest_available_seq}: nothing was pruned`);
        await expectResumeAtHead(ctx, scope, token, pruned.runId, pruned.topic, head);
        cases.push(`pruned H=${head} F=${window.json.oldest_available_seq}`);
      }
    });
    return `resume at head ok for ${cases.join(', ')}${ctx.target.profile === 'test' ? '' : ' (pruned case runs on a test profile only)'}`;
  },
};

const k5CursorAheadOfHead: CheckDefinition = {
  id: 'khala.k5.cursor-ahead-of-head',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 30_000,
  description: 'K5: k = H+1 is bad_subscription cursor_ahead_of_head for that topic only; the other topic of the subscribe replays and the socket keeps serving',
  async run(ctx) {
    const token = await syncToken(ctx, ctx.probeId);
    const ahead = await createRun(ctx);
    const other = await createRun(ctx);
    await appendEvents(ctx, ahead.runId, 2, 'k5-ahead');
    await appendEvents(ctx, other.runId, 2, 'k5-other');
    await withSockets(ctx, async (scope) => {
      const probe = await scope.probe(token);
      probe.send({ type: 'subscribe', request_id: 'k5', topics: [ahead.topic, other.topic], resume_after: { [ahead.topic]: { seq: 3 }, [other.topic]: { seq: 0 } } });
      const error = await probe.waitFor<ErrorFrame>((f) => f.type === 'error', 10_000).catch(() => undefined);
      expectThat(error, `no error frame for resume_after 3 on ${ahead.topic} at head 2`);
      expectThat(error.code === 'bad_subscription' && error.topic === ahead.topic && error.details?.reason_code === 'cursor_ahead_of_head', `expected bad_subscription cursor_ahead_of_head for ${ahead.topic}, got ${JSON.stringify(error).slice(0, 300)}`);
      await waitForSeq(probe, other.topic, 2);
      expectDelivered(`the other topic ${other.topic}`, probe, other.topic, 1, 2);
      expectThat(probe.seqs(ahead.topic).length === 0, `the rejected topic still received updates [${probe.seqs(ahead.topic).join(',')}]`);
      probe.send({ type: 'ping', request_id: 'after-reject' });
      await probe.waitFor((f) => f.type === 'pong', 5000).catch(() => expectThat(false, 'the socket stopped answering ping after a rejected topic'));
    });
    const poll = await pollPage(ctx, ahead.topic, token, 3);
    expectThat(poll.status === 400 && poll.json?.error?.details?.reason_code === 'cursor_ahead_of_head', `HTTP poll after_seq=3 at head 2: expected 400 cursor_ahead_of_head, got ${poll.status} ${JSON.stringify(poll.json?.error ?? '').slice(0, 200)}`);
    return 'k = H+1 refused per topic (WS bad_subscription, poll 400); the other topic replayed 1…2 and the socket answered ping';
  },
};

const k7EpochMismatch: CheckDefinition = {
  id: 'khala.k7.epoch-mismatch',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 30_000,
  description: 'K7: a made-up epoch is stale_cursor ["epoch_mismatch"] for a valid, an ahead-of-head and a zero cursor; the right epoch and no epoch are accepted',
  async run(ctx) {
    const token = await syncToken(ctx, ctx.probeId);
    const { runId, topic } = await createRun(ctx);
    await appendEvents(ctx, runId, 3, 'k7');
    return withSockets(ctx, async (scope) => {
      for (const seq of [1, 999, 0]) {
        const probe = await scope.resume(token, topic, seq, `runtime-gate-made-up-epoch-${ctx.probeId}`);
        const outcome = await resumeOutcome(probe, topic);
        expectThat(outcome.type === 'error' && outcome.code === 'stale_cursor' && JSON.stringify((outcome.details as { reason_codes?: unknown }).reason_codes) === '["epoch_mismatch"]', `resume {seq: ${seq}, epoch: made-up}: expected stale_cursor ["epoch_mismatch"], got ${JSON.stringify(outcome).slice(0, 300)}`);
        expectThat(probe.seqs(topic).length === 0, `resume with a made-up epoch delivered updates [${probe.seqs(topic).join(',')}]`);
      }
      const info = await scope.probe(token);
      info.send({ type: 'subscribe', request_id: 'epoch', topics: [topic] });
      const subscribed = await info.waitFor((f) => f.type === 'subscribed');
      const epoch = subscribed.type === 'subscribed' ? subscribed.topics[topic]?.epoch : undefined;
      expectThat(epoch, `subscribed frame did not list ${topic} with an epoch`);
      for (const withEpoch of [epoch, undefined]) {
        const probe = await scope.resume(token, topic, 1, withEpoch);
        await waitForSeq(probe, topic, 3);
        expectDelivered(`resume after 1 ${withEpoch ? 'with the current epoch' : 'without an epoch'}`, probe, topic, 2, 3);
      }
      return `made-up epoch → ["epoch_mismatch"] for cursors 1, 999 (ahead) and 0; current epoch and no epoch replay 2…3`;
    });
  },
};

const k8SurfacesAgree: CheckDefinition = {
  id: 'khala.k8.surfaces-agree',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K8: WS replay, HTTP poll (paged) and SSE expose the same (seq, payload_hash) ledger as the write responses, element by element',
  async run(ctx) {
    const size = await replayableSize(ctx, 120);
    const token = await syncToken(ctx, ctx.probeId);
    const { runId, topic } = await createRun(ctx);
    const writes = (await appendEvents(ctx, runId, size, 'k8')).map((w) => ({ topic, ...w }));
    observations(ctx).recordAll(`write responses ${topic}`, writes);
    const pageSize = Math.max(1, Math.ceil(size / 3));
    const polled = await pollAll(ctx, topic, token, pageSize);
    expectSameLedger(`HTTP poll (limit ${pageSize})`, writes, polled);
    const sse = await sseLedger(ctx, runId);
    expectSameLedger('SSE from cursor 0', writes, sse);
    await withSockets(ctx, async (scope) => {
      expectSameLedger('WS replay from 0 (as a K2 consumer applies it)', writes, await replayFromZero(scope, ctx, token, topic, size));
    });
    return `${size} events: write responses, WS replay, HTTP poll in pages of ${pageSize} and SSE agree element by element`;
  },
};

const k9MultiNodeLedger = (inputs: LaneInputs): CheckDefinition => ({
  id: 'khala.k9.multi-node-ledger',
  lane: 'khala',
  needsWrites: true,
  // Only with node_urls (SPEC §4): without other instances there is nothing to compare.
  optional: !inputs.candidate.node_urls?.length,
  timeoutMs: 60_000,
  description: 'K9: writes alternating across node_urls reach live subscribers on every node within 1 s; replays from 0 on every node are identical',
  async run(ctx) {
    const nodes = [ctx.target.base_url, ...(ctx.target.node_urls ?? [])];
    if (nodes.length < 2) {
      throw new CheckSkip('missing_input:node_urls (K9 needs at least one other instance of the deployment)');
    }
    const token = await syncToken(ctx, ctx.probeId);
    const { runId, topic } = await createRun(ctx);
    const perNode = 3;
    const latencies: number[] = [];
    await withSockets(ctx, async (scope) => {
      const probes = [];
      for (const node of nodes) {
        const probe = await scope.probe(token, { url: wsUrlOf(ctx.target, node) });
        probe.send({ type: 'subscribe', request_id: 'k9', topics: [topic] });
        await probe.waitFor((f) => f.type === 'subscribed');
        probes.push(probe);
      }
      for (let i = 0; i < perNode * nodes.length; i++) {
        const node = nodes[i % nodes.length]!;
        const http = ctx.http.forBaseUrl(node);
        const written = performance.now();
        const [event] = await appendEvents(ctx, runId, 1, `k9-${i}`, http);
        for (const [n, probe] of probes.entries()) {
          try {
            await probe.waitFor((f) => f.type === 'update_batch' && f.updates.some((u) => u.topic === topic && u.seq === event!.seq), 1000);
          } catch {
            expectThat(false, `seq ${event!.seq} written through ${node} did not reach the subscriber on ${nodes[n]} within 1 s`);
          }
          latencies.push(performance.now() - written);
        }
      }
      const final = perNode * nodes.length;
      const ledgers = [];
      for (const node of nodes) {
        ledgers.push(await replayFromZero(scope, ctx, token, topic, final, wsUrlOf(ctx.target, node), `replay from 0 on ${node}`));
        await pollAll(ctx, topic, token, 100, 0, ctx.http.forBaseUrl(node));
      }
      for (const [n, ledger] of ledgers.entries()) expectSameLedger(`replay on ${nodes[n]} vs ${nodes[0]}`, ledgers[0]!, ledger);
      const epochs = new Set(probes.flatMap((p) => p.frames.flatMap((f) => (f.type === 'update_batch' ? f.updates.filter((u) => u.topic === topic).map((u) => u.epoch) : []))));
      expectThat(epochs.size === 1, `nodes disagree on the epoch of ${topic}: ${[...epochs].join(', ')}`);
    });
    const ledger = observations(ctx);
    expectThat(ledger.conflictCount === 0, `nodes disagree: ${ledger.conflicts.slice(0, 3).join('; ')}`);
    ctx.run.latencies['khala: K9 write → live delivery on every node'] = latencies;
    return `${nodes.length} nodes: ${perNode * nodes.length} alternating writes reached every node's subscriber (max ${Math.round(Math.max(...latencies))} ms); replays from 0 identical`;
  },
});

const heartbeat: CheckDefinition = {
  id: 'khala.liveness.heartbeat',
  lane: 'khala',
  needsWrites: true,
  // Last: on a live target it waits up to 1.5 heartbeat intervals, the other checks should not wait for it.
  phase: 'last',
  timeoutMs: 45_000,
  description: 'heartbeat frames arrive every heartbeat_ms with watermarks equal to the subscribed topics’ heads',
  async run(ctx) {
    const token = await syncToken(ctx, ctx.probeId);
    const { runId, topic } = await createRun(ctx);
    await appendEvents(ctx, runId, 2, 'heartbeat');
    return withSockets(ctx, async (scope) => {
      const probe = await scope.probe(token);
      probe.send({ type: 'subscribe', request_id: 'hb', topics: [topic] });
      const subscribed = await probe.waitFor((f) => f.type === 'subscribed');
      const interval = subscribed.type === 'subscribed' ? subscribed.heartbeat_ms : 0;
      expectThat(interval > 0 && interval <= 20_000, `subscribed.heartbeat_ms ${interval}: outside what a bounded check can observe (≤ 20 s)`);
      // One beat proves interval and watermark; on a live target (15 s default) that is one interval, not two.
      const started = performance.now();
      // A heartbeat sent before the subscribe was processed carries no watermark for the topic: wait for one after `subscribed`.
      const beat = await probe.waitFor((f) => f.type === 'heartbeat', Math.round(interval * 1.5) + 1000, probe.frames.indexOf(subscribed) + 1).catch(() => undefined);
      expectThat(beat && beat.type === 'heartbeat', `no heartbeat within ${Math.round(interval * 1.5) + 1000} ms (heartbeat_ms ${interval})`);
      expectThat(beat.watermarks[topic] === 2, `heartbeat watermark for ${topic} is ${beat.watermarks[topic]}, head is 2`);
      const after = Math.round(performance.now() - started);
      return `heartbeat_ms ${interval}: a heartbeat after ${after} ms with watermark 2`;
    });
  },
};

export function khalaLane(inputs: LaneInputs): CheckDefinition[] {
  return [
    k1GaplessConcurrentWrites,
    k2DuplicateTolerance,
    k2ReorderTolerance,
    k3PayloadHashImmutable,
    k4ExactResume,
    k4NoSeamDuplicate,
    k5ResumeAtHead,
    k5CursorAheadOfHead,
    ...khalaBoundaryChecks(inputs),
    k7EpochMismatch,
    k8SurfacesAgree,
    k9MultiNodeLedger(inputs),
    heartbeat,
    ...khalaThreatChecks(inputs),
  ];
}
