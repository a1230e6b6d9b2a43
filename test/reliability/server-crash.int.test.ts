/**
 * Crash safety of the reference server (issue 9 §1): `runtime-gate serve` is killed with
 * SIGKILL while 8 writers append and Khala subscribers replay, then restarted on the same
 * database and port. Every write that got a 200 is in the journal exactly once at the seq
 * it was acknowledged with, seqs are gapless per topic, and every subscriber — having
 * resumed through the crash — applied exactly the journal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../reference-server/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { createRun, fatalAnomalies, journalProblems, type RecordingSubscriber, settleSubscribers, sleep, startSubscriber, startWriters } from './load-support.ts';
import { findFreePort, killAllChildren, type ServerProcess, spawnServer } from './process-support.ts';

let db: TestDatabase;
const subscribers: RecordingSubscriber[] = [];
let server: ServerProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase('server_crash');
  await migrate(db.pool, { buildSha: 'dev' });
});
afterAll(async () => {
  await Promise.all(subscribers.map((s) => s.client.close()));
  killAllChildren();
  await db?.drop();
});

const serverEnv = () => ({
  DATABASE_URL: db.url,
  RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '100000',
  RUNTIME_KHALA_HEARTBEAT_MS: '300',
  RUNTIME_KHALA_FALLBACK_POLL_MS: '200',
});

describe('kill -9 of the reference server under load', () => {
  it('loses no acknowledged write, leaves no seq gap, and every subscriber resumes to exactly the journal', async () => {
    const port = await findFreePort();
    server = await spawnServer(serverEnv(), port);
    const baseUrl = server.url;
    const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
    const owner = 'crash-owner';
    const runs = await Promise.all([0, 1, 2, 3].map(() => createRun(baseUrl, owner)));
    const topics = runs.map((r) => r.topic);
    // Two subscribers on all topics from the start, replaying and then live.
    subscribers.push(await startSubscriber({ wsUrl: () => wsUrl, topics, owner }));
    subscribers.push(await startSubscriber({ wsUrl: () => wsUrl, topics: topics.slice(0, 2), owner }));
    const writers = startWriters({ baseUrl: () => server!.url, runIds: runs.map((r) => r.runId), count: 8, label: 'crash' });

    for (let crash = 0; crash < 2; crash++) {
      await sleep(1200);
      // A late subscriber replays from seq 0 while writes continue (and the crash cuts its replay).
      subscribers.push(await startSubscriber({ wsUrl: () => wsUrl, topics: topics.slice(crash * 2, crash * 2 + 2), owner }));
      await sleep(150);
      const ackedBefore = writers.stats.acked.size;
      await server.kill9();
      expect(ackedBefore, 'writes were acknowledged before the crash').toBeGreaterThan(20);
      await sleep(300);
      server = await spawnServer(serverEnv(), port);
    }
    await sleep(1200);
    await writers.stop();
    const { stats } = writers;

    if (process.env.RELIABILITY_DEBUG) console.log(JSON.stringify({ acked: stats.acked.size, unanswered: stats.unanswered, replays: stats.replays, statuses: stats.statuses, applied: subscribers.map((s) => [...s.ledgers.values()].map((l) => l.length)), conns: subscribers.map((s) => s.client.connections) }));
    expect(stats.conflicts).toEqual([]);
    expect(stats.unanswered, 'the crashes cut some writes off').toBeGreaterThan(0);
    expect(await journalProblems(db.pool, runs.map((r) => r.runId), stats.acked)).toEqual([]);
    expect(await settleSubscribers(db.pool, subscribers, 20_000)).toEqual([]);
    expect(fatalAnomalies(subscribers)).toEqual([]);
    expect(subscribers.every((s) => s.client.connections >= 2), 'every subscriber reconnected after a crash').toBe(true);
    const health = await fetch(`${server.url}/readyz`);
    expect(health.status).toBe(200);
    expect(await server.stop()).toBe(0);
  });
});
