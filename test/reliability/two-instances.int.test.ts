/**
 * Two reference-server instances on one database (issue 9 §2): writers spread over both
 * append to the same runs, and the same idempotency key raced through both nodes at once
 * resolves to one event. Seqs stay gapless with no duplicate, every acknowledged write is
 * stored once, and subscribers on either node apply the same ledger as the journal.
 *
 * (Four concurrent `migrate` runs on an empty database are covered by
 * test/db/migrate.int.test.ts, "applies each migration exactly once when four runners race".)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../reference-server/db/migrate.ts';
import { createPool } from '../../reference-server/db/pool.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { createRun, DEV_INTERNAL_TOKEN, fatalAnomalies, journalProblems, type RecordingSubscriber, readJournal, settleSubscribers, sleep, startSubscriber, startWriters } from './load-support.ts';

let db: TestDatabase;
let secondPool: TestDatabase;
const nodes: TestServer[] = [];
const subscribers: RecordingSubscriber[] = [];
const env = { LOG_LEVEL: 'warn', RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '100000', RUNTIME_KHALA_HEARTBEAT_MS: '300' };

beforeAll(async () => {
  db = await createTestDatabase('two_instances', 12);
  await migrate(db.pool, { buildSha: 'dev' });
  // The second instance has a pool of its own, as a second process would.
  const pool = createPool(db.url, { max: 12 });
  secondPool = { ...db, pool, drop: async () => void (await pool.end()) };
  nodes.push(await startTestServer(db, env), await startTestServer(secondPool, env));
});
afterAll(async () => {
  await Promise.all(subscribers.map((s) => s.client.close()));
  for (const node of nodes) await node.close();
  await secondPool?.drop();
  await db?.drop();
});

const wsOf = (t: TestServer) => `${t.url.replace(/^http/, 'ws')}/internal/v1/khala/ws`;

describe('two instances appending to the same runs', () => {
  it('never produce a duplicate or missing seq, and both nodes deliver the journal', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const runs = await Promise.all([0, 1].map(() => createRun(a.url, 'two-nodes')));
    const topics = runs.map((r) => r.topic);
    subscribers.push(await startSubscriber({ wsUrl: () => wsOf(a), topics, owner: 'two-nodes' }));
    subscribers.push(await startSubscriber({ wsUrl: () => wsOf(b), topics, owner: 'two-nodes' }));
    const writers = startWriters({ baseUrl: (i) => (i % 2 === 0 ? a.url : b.url), runIds: runs.map((r) => r.runId), count: 8, label: 'two-nodes' });
    await sleep(2500);
    await writers.stop();
    expect(writers.stats.acked.size).toBeGreaterThan(100);
    expect(writers.stats.conflicts).toEqual([]);
    expect(writers.stats.statuses).toEqual({});
    expect(await journalProblems(db.pool, runs.map((r) => r.runId), writers.stats.acked)).toEqual([]);
    expect(await settleSubscribers(db.pool, subscribers, 15_000)).toEqual([]);
    expect(fatalAnomalies(subscribers)).toEqual([]);
  });

  it('the same idempotency key raced through both nodes is one event with one seq', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const { runId, topic } = await createRun(a.url, 'two-nodes');
    const append = (url: string, key: string) =>
      fetch(`${url}/internal/v1/runs/${runId}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_INTERNAL_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event_type: 'race', idempotency_key: key, payload: { key } }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { event: { seq: number }; idempotent_replay: boolean } }));
    for (let k = 0; k < Number(process.env.RACE_KEYS ?? 20); k++) {
      const answers = await Promise.all([append(a.url, `k${k}`), append(b.url, `k${k}`), append(a.url, `k${k}`), append(b.url, `k${k}`)]);
      expect(answers.map((x) => x.status), `key k${k}: ${JSON.stringify(answers).slice(0, 600)}`).toEqual([200, 200, 200, 200]);
      expect(new Set(answers.map((x) => x.body.event.seq)).size, `key k${k}: one seq`).toBe(1);
      expect(answers.filter((x) => !x.body.idempotent_replay)).toHaveLength(1);
    }
    expect((await readJournal(db.pool, topic)).map((e) => e.seq)).toEqual(Array.from({ length: Number(process.env.RACE_KEYS ?? 20) }, (_, i) => i + 1));
  });
});
