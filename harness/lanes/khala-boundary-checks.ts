/**
 * Boundary checks of the khala lane (K6 stale cursors, publish and payload limits).
 * They need a target that declared small budgets and retention: they run on a target
 * with profile `test` and are optional and skipped on `live` targets, which are never
 * flooded (SPEC §4). Expected outcomes are computed from (F, H, B) as read from the
 * target, never assumed (KHALA_ORDERING.md K6 "Reachability note").
 */
import type { ErrorFrame, StaleCursorDetails, SubscribedTopic } from '../../contracts/generated/khala-frames.ts';
import { type CheckContext, type CheckDefinition, expectThat } from '../check-runner.ts';
import type { LaneInputs } from './lane.ts';
import {
  appendEvent,
  appendEvents,
  createRun,
  expectDelivered,
  expectExactSequence,
  observations,
  pollAll,
  pollPage,
  probeUpdates,
  requireTestProfile,
  resumeOutcome,
  runEventsLimits,
  type SocketScope,
  syncToken,
  waitForSeq,
  withSockets,
} from './khala-support.ts';

/** Above this many events a boundary topic is too big to build within a bounded check. */
const MAX_BOUNDARY_EVENTS = 600;
const RECOVERY = 'reset_local_watermark_and_replay_bootstrap';

interface BoundaryTopic {
  runId: string;
  topic: string;
  token: string;
  budget: number;
}

interface TopicWindow {
  F: number;
  H: number;
  B: number;
  epoch: string;
}

/** One pruned topic with H − B > 0 and F > 2, shared by the K6 checks of a run. */
async function boundaryTopic(ctx: CheckContext): Promise<BoundaryTopic> {
  requireTestProfile(ctx);
  const cached = ctx.run['khala.k6.topic'] as BoundaryTopic | undefined;
  if (cached) return cached;
  const limits = await runEventsLimits(ctx);
  const head = Math.max(limits.retention_events, limits.replay_budget_events) + 10;
  expectThat(head <= MAX_BOUNDARY_EVENTS, `profile test declares run_events budget ${limits.replay_budget_events} and retention ${limits.retention_events}: a boundary topic would need ${head} events (max ${MAX_BOUNDARY_EVENTS})`);
  const { runId, topic } = await createRun(ctx);
  await appendEvents(ctx, runId, head, 'k6');
  const created: BoundaryTopic = { runId, topic, token: await syncToken(ctx, ctx.probeId), budget: limits.replay_budget_events };
  ctx.run['khala.k6.topic'] = created;
  return created;
}

/** F, H and the epoch as the target reports them on a live-only subscribe. */
async function topicWindow(scope: SocketScope, subject: BoundaryTopic): Promise<TopicWindow> {
  const probe = await scope.probe(subject.token);
  probe.send({ type: 'subscribe', request_id: 'window', topics: [subject.topic] });
  const subscribed = await probe.waitFor((f) => f.type === 'subscribed');
  const info = subscribed.type === 'subscribed' ? (subscribed.topics[subject.topic] as SubscribedTopic | undefined) : undefined;
  expectThat(info, `subscribed frame does not list ${subject.topic}`);
  probe.close();
  return { F: info.oldest_available_seq, H: info.head_seq, B: subject.budget, epoch: info.epoch };
}

function expectedReasons(k: number, { F, H, B }: TopicWindow): string[] {
  return [...(k + 1 < F ? ['retention_floor_breach'] : []), ...(H - k > B ? ['replay_budget_exceeded'] : [])];
}

/** The reason codes that `details` alone implies (K6: they must be recomputable). */
function reasonsFromDetails(details: StaleCursorDetails): string[] {
  return expectedReasons(details.requested_seq, { F: details.oldest_available_seq, H: details.head_seq, B: details.replay_budget_events, epoch: '' });
}

/** Resumes at k and checks the outcome K6 prescribes for (F, H, B); returns the stale details if stale. */
async function expectResumeOutcome(ctx: CheckContext, scope: SocketScope, subject: BoundaryTopic, k: number, window: TopicWindow): Promise<StaleCursorDetails | undefined> {
  const expected = expectedReasons(k, window);
  const probe = await scope.resume(subject.token, subject.topic, k);
  const outcome = await resumeOutcome(probe, subject.topic);
  const where = `resume k=${k} (F=${window.F}, H=${window.H}, B=${window.B})`;
  if (expected.length === 0) {
    expectThat(outcome.type === 'update_batch', `${where}: expected a replay of ${k + 1}…${window.H}, got ${JSON.stringify(outcome).slice(0, 300)}`);
    await waitForSeq(probe, subject.topic, window.H);
    observations(ctx).recordAll(`ws resume after ${k} ${subject.topic}`, probeUpdates(probe, subject.topic));
    expectDelivered(where, probe, subject.topic, k + 1, window.H);
    return undefined;
  }
  expectThat(outcome.type === 'error' && outcome.code === 'stale_cursor', `${where}: expected stale_cursor ${JSON.stringify(expected)}, got ${JSON.stringify(outcome).slice(0, 300)}`);
  const details = (outcome as ErrorFrame).details as unknown as StaleCursorDetails;
  expectThat(JSON.stringify(details.reason_codes) === JSON.stringify(expected), `${where}: reason_codes ${JSON.stringify(details.reason_codes)}, expected ${JSON.stringify(expected)}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expectThat(probe.seqs(subject.topic).length === 0, `${where}: a stale topic received a partial replay [${probe.seqs(subject.topic).slice(0, 10).join(',')}…]`);
  return details;
}

const retentionFloorBoundary: CheckDefinition = {
  id: 'khala.k6.retention-floor-boundary',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K6: k = F−1 is not a floor breach and k = F−2 is, on WS and HTTP poll (poll 200 at F−1, 410 retention_floor_breach at F−2)',
  async run(ctx) {
    const subject = await boundaryTopic(ctx);
    return withSockets(ctx, async (scope) => {
      const window = await topicWindow(scope, subject);
      expectThat(window.F >= 3, `${subject.topic}: oldest_available_seq ${window.F} after ${window.H} writes: the target did not prune to its declared retention`);
      for (const k of [window.F - 1, window.F - 2]) await expectResumeOutcome(ctx, scope, subject, k, window);
      const atFloor = await pollPage(ctx, subject.topic, subject.token, window.F - 1, 5);
      expectThat(atFloor.status === 200 && atFloor.json.messages?.[0]?.seq === window.F, `poll after_seq=F−1=${window.F - 1}: expected 200 starting at ${window.F}, got ${atFloor.status} ${JSON.stringify(atFloor.json).slice(0, 200)}`);
      const below = await pollPage(ctx, subject.topic, subject.token, window.F - 2, 5);
      const error = below.json?.error;
      expectThat(below.status === 410 && error?.code === 'stale_cursor' && JSON.stringify(error.details?.reason_codes) === '["retention_floor_breach"]', `poll after_seq=F−2=${window.F - 2}: expected 410 stale_cursor ["retention_floor_breach"], got ${below.status} ${JSON.stringify(below.json).slice(0, 200)}`);
      return `F=${window.F} H=${window.H} B=${window.B}: WS k=F−1 → ${JSON.stringify(expectedReasons(window.F - 1, window))}, k=F−2 → ${JSON.stringify(expectedReasons(window.F - 2, window))}; poll 200 at F−1, 410 at F−2`;
    });
  },
};

const budgetBoundary: CheckDefinition = {
  id: 'khala.k6.budget-boundary',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K6: k = H−B replays exactly k+1…H, k = H−B−1 is replay_budget_exceeded',
  async run(ctx) {
    const subject = await boundaryTopic(ctx);
    return withSockets(ctx, async (scope) => {
      const window = await topicWindow(scope, subject);
      expectThat(window.H - window.B - 1 >= 0, `${subject.topic}: head ${window.H} is not above the budget ${window.B}`);
      for (const k of [window.H - window.B, window.H - window.B - 1]) await expectResumeOutcome(ctx, scope, subject, k, window);
      return `F=${window.F} H=${window.H} B=${window.B}: k=H−B → ${JSON.stringify(expectedReasons(window.H - window.B, window))}, k=H−B−1 → ${JSON.stringify(expectedReasons(window.H - window.B - 1, window))}`;
    });
  },
};

const bothReasonsOrdered: CheckDefinition = {
  id: 'khala.k6.both-reasons-ordered',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K6: a cursor breaching floor and budget gets both reasons, floor first, with complete, self-consistent details; a healthy topic in the same subscribe is not disturbed',
  async run(ctx) {
    const subject = await boundaryTopic(ctx);
    return withSockets(ctx, async (scope) => {
      const window = await topicWindow(scope, subject);
      const k = Math.max(0, Math.min(window.F - 2, window.H - window.B - 1));
      expectThat(JSON.stringify(expectedReasons(k, window)) === '["retention_floor_breach","replay_budget_exceeded"]', `F=${window.F} H=${window.H} B=${window.B}: no cursor breaches both`);
      const details = await expectResumeOutcome(ctx, scope, subject, k, window);
      expectThat(details, `resume k=${k}: not stale`);
      const want = { topic: subject.topic, requested_seq: k, oldest_available_seq: window.F, head_seq: window.H, replay_budget_events: window.B, recovery: RECOVERY };
      for (const [field, value] of Object.entries(want)) expectThat((details as unknown as Record<string, unknown>)[field] === value, `details.${field} is ${JSON.stringify((details as unknown as Record<string, unknown>)[field])}, expected ${JSON.stringify(value)}`);
      expectThat(typeof details.qos_tier === 'string', 'details.qos_tier is missing');
      expectThat(JSON.stringify(reasonsFromDetails(details)) === JSON.stringify(details.reason_codes), `reason_codes ${JSON.stringify(details.reason_codes)} cannot be recomputed from details (${JSON.stringify(reasonsFromDetails(details))})`);
      // Per-topic independence: the stale topic does not disturb another topic of the same subscribe.
      const other = await createRun(ctx);
      await appendEvents(ctx, other.runId, 2, 'k6-independent');
      const both = await scope.probe(subject.token);
      both.send({ type: 'subscribe', request_id: 'both', topics: [subject.topic, other.topic], resume_after: { [subject.topic]: { seq: k }, [other.topic]: { seq: 0 } } });
      const stale = await resumeOutcome(both, subject.topic);
      expectThat(stale.type === 'error' && stale.code === 'stale_cursor', `stale topic next to a healthy one: expected stale_cursor, got ${JSON.stringify(stale).slice(0, 200)}`);
      await waitForSeq(both, other.topic, 2);
      expectDelivered('the healthy topic subscribed with the stale one', both, other.topic, 1, 2);
      return `k=${k}: ["retention_floor_breach","replay_budget_exceeded"] with complete details (F=${window.F} H=${window.H} B=${window.B}, qos_tier ${details.qos_tier}); a healthy topic in the same subscribe replayed 1…2`;
    });
  },
};

const snapshotRebootstrap: CheckDefinition = {
  id: 'khala.k6.snapshot-rebootstrap',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 60_000,
  description: 'K6: a stale run_events resume carries a valid snapshot; resuming from as_of_seq yields as_of_seq+1…H, and the Khala client rebootstraps to the oracle ledger',
  async run(ctx) {
    const subject = await boundaryTopic(ctx);
    return withSockets(ctx, async (scope) => {
      const window = await topicWindow(scope, subject);
      const probe = await scope.resume(subject.token, subject.topic, 0);
      const outcome = await resumeOutcome(probe, subject.topic);
      expectThat(outcome.type === 'error' && outcome.code === 'stale_cursor', `resume k=0 on F=${window.F}: expected stale_cursor, got ${JSON.stringify(outcome).slice(0, 300)}`);
      const details = outcome.details as unknown as StaleCursorDetails;
      const snapshot = details.snapshot;
      expectThat(snapshot && snapshot.schema === 'openagents.sync.snapshot.v1' && typeof snapshot.doc_key === 'string', `stale_cursor on a run_events topic without a valid snapshot: ${JSON.stringify(snapshot ?? null).slice(0, 200)}`);
      const asOf = snapshot.as_of_seq;
      expectThat(asOf >= window.F - 1 && asOf <= window.H && window.H - asOf <= window.B, `snapshot.as_of_seq ${asOf} outside [F−1=${window.F - 1}, H=${window.H}] or more than B=${window.B} behind H`);
      // Writes after the snapshot: resuming from as_of_seq must yield exactly those.
      await appendEvents(ctx, subject.runId, 3, `k6-after-snapshot-${asOf}`);
      const head = window.H + 3;
      probe.send({ type: 'subscribe', request_id: 'from-snapshot', topics: [subject.topic], resume_after: { [subject.topic]: { seq: asOf, ...(details.epoch ? { epoch: details.epoch } : {}) } } });
      await waitForSeq(probe, subject.topic, head);
      expectDelivered(`resume from as_of_seq ${asOf}`, probe, subject.topic, asOf + 1, head);
      // The client's own recovery: start stale, rebootstrap from the snapshot, then apply live writes.
      let snapshots = 0;
      let clientAsOf = -1;
      const applied: { seq: number; payload_hash: string }[] = [];
      const client = scope.client({
        token: subject.token,
        topics: [subject.topic],
        initialCursor: 1,
        onSnapshot: (_topic, taken) => {
          snapshots += 1;
          clientAsOf = taken.as_of_seq;
        },
        onApply: (u) => applied.push({ seq: u.seq, payload_hash: u.payload_hash }),
      });
      await client.start();
      await client.waitForSeq(subject.topic, head, 10_000).catch(() => expectThat(false, `the Khala client did not reach head ${head} after the stale cursor (at ${client.lastApplied(subject.topic)}; anomalies ${client.anomalies.map((a) => a.kind).join(',')})`));
      await appendEvents(ctx, subject.runId, 2, `k6-client-live-${asOf}`);
      await client.waitForSeq(subject.topic, head + 2, 10_000).catch(() => expectThat(false, `the Khala client did not apply the live writes ${head + 1}…${head + 2} after rebootstrapping (at ${client.lastApplied(subject.topic)})`));
      expectThat(snapshots === 1, `the client applied ${snapshots} snapshots, expected 1`);
      const oracle = (await pollAll(ctx, subject.topic, subject.token, 100, clientAsOf)).map(({ seq, payload_hash }) => ({ seq, payload_hash }));
      expectThat(applied.length > 0 && JSON.stringify(applied) === JSON.stringify(oracle), `after its snapshot (as_of_seq ${clientAsOf}) the client applied ${applied.length} updates ${applied.at(0)?.seq}…${applied.at(-1)?.seq} that differ from the HTTP ledger ${oracle.at(0)?.seq}…${oracle.at(-1)?.seq}`);
      return `snapshot ${snapshot.doc_key} as_of_seq ${asOf} (F=${window.F}, H=${window.H}); resume from it replayed ${asOf + 1}…${head}; the client rebootstrapped from as_of_seq ${clientAsOf} and applied ${applied.length} updates equal to the HTTP ledger`;
    });
  },
};

const payloadSizeLimit: CheckDefinition = {
  id: 'khala.limits.payload-size',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 30_000,
  description: 'an append over the class max_payload_bytes answers 413 payload_too_large and consumes no seq',
  async run(ctx) {
    const limits = await runEventsLimits(ctx);
    expectThat(limits.max_payload_bytes <= 4 * 1024 * 1024, `max_payload_bytes ${limits.max_payload_bytes}: too large to probe`);
    const { runId } = await createRun(ctx);
    const [first] = await appendEvents(ctx, runId, 1, 'payload-before');
    const big = await appendEvent(ctx, runId, { idempotency_key: `${ctx.probeId}-payload-big`, payload: { blob: 'x'.repeat(limits.max_payload_bytes + 1) } });
    expectThat(big.status === 413 && typeof big.json?.error?.code === 'string', `a payload of ${limits.max_payload_bytes + 1}+ bytes answered ${big.status}, expected 413 with the error envelope`);
    const [next] = await appendEvents(ctx, runId, 1, 'payload-after');
    expectThat(next!.seq === first!.seq + 1, `the refused append consumed a seq: ${first!.seq} then ${next!.seq}`);
    return `max_payload_bytes ${limits.max_payload_bytes}: one byte over → 413 ${big.json.error.code}; seqs stayed gapless (${first!.seq}, ${next!.seq})`;
  },
};

const publishRateLimit: CheckDefinition = {
  id: 'khala.limits.publish-rate',
  lane: 'khala',
  needsWrites: true,
  timeoutMs: 30_000,
  description: 'a burst above publish_rate_per_second gets 429 with Retry-After; refused appends consume no seq',
  async run(ctx) {
    requireTestProfile(ctx);
    const limits = await runEventsLimits(ctx);
    expectThat(limits.publish_rate_per_second <= 1000, `publish_rate_per_second ${limits.publish_rate_per_second}: too high to probe with a bounded burst`);
    // Twice the bucket: refills during a slow burst must not hide the limit.
    const burst = limits.publish_rate_per_second * 2 + 20;
    const rate = limits.publish_rate_per_second;
    for (let attempt = 1; ; attempt++) {
      const { runId } = await createRun(ctx);
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: burst }, (_, i) => ctx.http.request({ method: 'POST', path: `/internal/v1/runs/${runId}/events`, body: { event_type: 'runtime_gate.probe', idempotency_key: `${ctx.probeId}-rate-${attempt}-${i}`, payload: { i } } })),
      );
      const seconds = (performance.now() - started) / 1000;
      const limited = answers.filter((a) => a.status === 429);
      const accepted = answers.filter((a) => a.status === 200);
      const other = answers.filter((a) => a.status !== 200 && a.status !== 429);
      expectThat(other.length === 0, `the burst got unexpected statuses: ${[...new Set(other.map((a) => a.status))].join(', ')}`);
      // A burst slower than the bucket plus its refill proves nothing either way (new connections
      // on a loaded machine); the next one reuses the connections. Beyond that, no 429 is a failure.
      if (limited.length === 0 && accepted.length <= rate + rate * seconds && attempt < 3) {
        ctx.log(`burst ${attempt}: ${accepted.length} appends accepted over ${seconds.toFixed(2)} s, within the bucket (${rate}) plus its refill: inconclusive, bursting again`);
        continue;
      }
      expectThat(limited.length > 0, `${burst} appends at once with publish_rate_per_second ${rate}: no 429 (burst ${attempt} took ${seconds.toFixed(2)} s)`);
      expectThat(limited.every((a) => /^\d+$/.test(a.headers.get('retry-after') ?? '') && typeof a.json?.error?.code === 'string'), '429 answers without a numeric Retry-After or the error envelope');
      expectExactSequence('seqs of the accepted appends', accepted.map((a) => a.json.event.seq as number).sort((a, b) => a - b), 1, accepted.length);
      return `${burst} concurrent appends at rate ${rate}/s${attempt > 1 ? ` (burst ${attempt}; the earlier ones were too slow to exceed the bucket plus refill)` : ''}: ${accepted.length} accepted with seqs 1…${accepted.length}, ${limited.length} × 429 with Retry-After`;
    }
  },
};

/** Boundary checks are optional unless the target declares profile `test`; the payload-size check never floods and always runs. */
export function khalaBoundaryChecks(inputs: LaneInputs): CheckDefinition[] {
  const testOnly = (check: CheckDefinition): CheckDefinition => (inputs.candidate.profile === 'test' ? check : { ...check, optional: true });
  return [retentionFloorBoundary, budgetBoundary, bothReasonsOrdered, snapshotRebootstrap].map(testOnly).concat(payloadSizeLimit, testOnly(publishRateLimit));
}
