/**
 * Parity scenario `happy-path`: create a run, append seeded events (with an idempotent
 * replay, a conflicting replay and an invalid body), read it back over every surface —
 * GET run, HTTP poll in pages, SSE, a WebSocket replay from seq 0 — then live WebSocket
 * delivery of two more events.
 */
import { syncToken } from '../lanes/khala-support.ts';
import { appendSeeded, call, consume, createRun, INTERNAL, type ParityScenario, readRun, readSse, ScenarioConsumer } from './scenario.ts';

export const happyPathScenario: ParityScenario = {
  name: 'happy-path',
  description: 'create run, append seeded events (replay, conflict, invalid), read via GET, HTTP poll, SSE and WS replay, then live WS delivery',
  async run(side) {
    const owner = side.inputs.probeId;
    const { runId, topic } = await createRun(side);
    const eventsPath = `${INTERNAL}/runs/${runId}/events`;
    const { bodies } = await appendSeeded(side, runId, 'e', 0, side.random.int(4, 9));
    const first = bodies[0]!;
    await call(side, 'append replay of e#0', { method: 'POST', path: eventsPath, body: first });
    await call(side, 'append conflict on e#0', { method: 'POST', path: eventsPath, body: { ...first, payload: { changed: true } } });
    await call(side, 'append invalid body', { method: 'POST', path: eventsPath, body: { event_type: 'run.step' } });
    const head = await readRun(side, runId, 'get run');
    await call(side, 'get unknown run', { method: 'GET', path: `${INTERNAL}/runs/run_${'0'.repeat(32)}` });

    const token = await syncToken(side.ctx, owner);
    let cursor = 0;
    for (let page = 0; page < 20; page++) {
      const path = `${INTERNAL}/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=${cursor}&limit=3`;
      const r = await call(side, `poll page ${page}`, { method: 'GET', path, auth: { bearer: token } });
      if (r?.status !== 200 || r.json?.replay_complete || !Array.isArray(r.json?.messages) || r.json.messages.length === 0) break;
      cursor = r.json.next_cursor;
    }
    await readSse(side, 'sse from 0', `${INTERNAL}/runs/${runId}/stream?cursor=0`);
    await consume(side, 'ws replay from 0', { topic, owner, initialCursor: 0, untilSeq: head, recordSubscribed: true });

    const live = await ScenarioConsumer.open(side, 'ws live', { topic, owner, initialCursor: head ?? 0, recordSubscribed: true });
    const { last } = await appendSeeded(side, runId, 'live', 0, 2);
    await live.finish(last);
  },
};
