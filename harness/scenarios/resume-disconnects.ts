/**
 * Parity scenario `resume-disconnects`: live events are consumed through the built-in
 * fault proxy, which drops the connection after seeded frame counts and duplicates
 * batches (no reordering: a held last batch would wait for the next heartbeat); the K2 client resumes from its cursor each time, so the applied
 * ledger must still be every seq exactly once (K2, K4). Then exact resume from a cursor
 * in the middle, resume at the head (K5), and a cursor ahead of the head (K5:
 * `bad_subscription` / `cursor_ahead_of_head`).
 */
import { KhalaFaultProxy } from '../khala/fault-proxy.ts';
import { wsUrlOf } from '../lanes/khala-support.ts';
import { appendSeeded, consume, createRun, type ParityScenario, readRun, ScenarioConsumer } from './scenario.ts';

export const resumeDisconnectsScenario: ParityScenario = {
  name: 'resume-disconnects',
  description: 'live delivery through a fault proxy that drops connections (seeded), exact resume mid-topic, resume at head, cursor ahead of head',
  async run(side) {
    const owner = side.inputs.probeId;
    const { runId, topic } = await createRun(side);
    const { last: before } = await appendSeeded(side, runId, 'r', 0, side.random.int(3, 6));
    const drops = Array.from({ length: 3 }, () => side.random.int(2, 4));
    const proxy = new KhalaFaultProxy(wsUrlOf(side.ctx.target), { dropAfterFrames: drops, duplicate: 0.3, seed: side.inputs.seed });
    const url = await proxy.start();
    try {
      const consumer = await ScenarioConsumer.open(side, 'ws through drops', { topic, owner, initialCursor: 0, url, reconnect: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 50 } });
      const { last } = await appendSeeded(side, runId, 'live', 0, side.random.int(8, 14));
      await consumer.finish(last || before, 8000);
      side.ctx.log(`fault proxy: ${JSON.stringify(proxy.counts)}`);
    } finally {
      await proxy.stop();
    }
    const head = await readRun(side, runId, 'get run');
    const middle = Math.max(1, Math.floor((head ?? 2) / 2));
    await consume(side, `ws resume after ${middle}`, { topic, owner, initialCursor: middle, untilSeq: head, recordSubscribed: true });
    await consume(side, 'ws resume at head', { topic, owner, initialCursor: head ?? 0, untilSeq: undefined, recordSubscribed: true });
    const ahead = await ScenarioConsumer.open(side, 'ws cursor ahead of head', { topic, owner, initialCursor: (head ?? 0) + 5, recordSubscribed: true, reconnect: { maxAttempts: 0 } });
    await ahead.waitForFrame((frame) => frame.type === 'error');
    await ahead.finish(undefined);
  },
};
