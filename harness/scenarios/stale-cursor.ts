/**
 * Parity scenario `stale-cursor`: on targets started with small budgets (profile `test`),
 * a topic is filled past the run_events replay budget, then a consumer resumes from seq 0:
 * the target must answer `stale_cursor` with the same reasons and snapshot (K6), and the
 * K2 client rebootstraps from the snapshot and continues live. The HTTP poll from 0 is
 * recorded too (410 only below the retention floor). Live targets are never flooded: the
 * scenario is skipped unless both targets declare profile `test`.
 */
import { syncToken } from '../lanes/khala-support.ts';
import { appendSeeded, call, createRun, INTERNAL, need, type ParityScenario, ScenarioConsumer } from './scenario.ts';

/** Above this budget the scenario would flood the target; it stops instead. */
const MAX_BUDGET = 1000;

export const staleCursorScenario: ParityScenario = {
  name: 'stale-cursor',
  description: 'fill a topic past the replay budget (profile test only), resume from 0: stale_cursor with snapshot, rebootstrap, continue live',
  optional: ({ baseline, candidate }) => baseline.profile !== 'test' || candidate.profile !== 'test',
  skipReason: ({ targets: { baseline, candidate } }) =>
    baseline.profile === 'test' && candidate.profile === 'test'
      ? undefined
      : `boundary scenario: runs only when both targets have profile test (baseline ${baseline.profile ?? 'live'}, candidate ${candidate.profile ?? 'live'}); a live target is never flooded`,
  async run(side) {
    const owner = side.inputs.probeId;
    // Only the run_events limits are compared: the rest of the metrics is each target's history.
    const metrics = await side.ctx.http.request({ method: 'GET', path: `${INTERNAL}/khala/fanout/metrics` }).catch(() => undefined);
    const classes: { topic_class: string; replay_budget_events?: number }[] = Array.isArray(metrics?.json?.classes) ? metrics.json.classes : [];
    const limits = classes.find((c) => c.topic_class === 'run_events');
    side.rec.record('khala', 'run_events limits', limits ?? null);
    const budget = limits?.replay_budget_events;
    need(typeof budget === 'number' && budget > 0 && budget <= MAX_BUDGET, 'run_events replay budget (small, profile test)');

    const { runId, topic } = await createRun(side);
    const { last: head } = await appendSeeded(side, runId, 's', 0, budget + 2);
    const consumer = await ScenarioConsumer.open(side, 'ws resume from 0 past the budget', { topic, owner, initialCursor: 0, recordSubscribed: true });
    await consumer.waitForFrame((frame) => frame.type === 'subscribed' && Object.hasOwn((frame.topics as object) ?? {}, topic), 5000);
    const { last } = await appendSeeded(side, runId, 'after-rebootstrap', 0, 2);
    await consumer.finish(last || head);

    const token = await syncToken(side.ctx, owner);
    await call(side, 'poll from 0', { method: 'GET', path: `${INTERNAL}/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=0&limit=1`, auth: { bearer: token } });
  },
};
