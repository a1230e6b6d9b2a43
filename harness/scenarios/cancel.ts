/**
 * Parity scenario `cancel`: a run with a few events is canceled (202), canceled again
 * (200, idempotent replay), refuses a new event (409), and its topic — read back over
 * HTTP poll and a WebSocket replay — ends with the `run.cancel_requested` event.
 */
import { syncToken } from '../lanes/khala-support.ts';
import { appendSeeded, call, consume, createRun, INTERNAL, type ParityScenario, readRun, seededEvent } from './scenario.ts';

export const cancelScenario: ParityScenario = {
  name: 'cancel',
  description: 'cancel a run (202), cancel again (200 replay), append after cancel (409), read the topic back over poll and WS',
  async run(side) {
    const owner = side.inputs.probeId;
    const { runId, topic } = await createRun(side);
    await appendSeeded(side, runId, 'c', 0, side.random.int(1, 4));
    await call(side, 'cancel', { method: 'POST', path: `${INTERNAL}/runs/${runId}/cancel`, body: { reason: 'runtime-gate parity' } });
    await call(side, 'cancel again', { method: 'POST', path: `${INTERNAL}/runs/${runId}/cancel`, body: { reason: 'runtime-gate parity' } });
    await call(side, 'append after cancel', { method: 'POST', path: `${INTERNAL}/runs/${runId}/events`, body: seededEvent(side, 'after-cancel', 0) });
    const head = await readRun(side, runId, 'get canceled run');
    const token = await syncToken(side.ctx, owner);
    await call(side, 'poll from 0', { method: 'GET', path: `${INTERNAL}/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=0&limit=100`, auth: { bearer: token } });
    await consume(side, 'ws replay from 0', { topic, owner, initialCursor: 0, untilSeq: head, recordSubscribed: true });
  },
};
