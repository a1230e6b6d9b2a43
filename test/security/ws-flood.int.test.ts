/**
 * A Khala client flooding frames faster than the server answers them (issue 9 §3, "unbounded
 * memory"): `runtime-gate serve` runs as its own process so its memory can be read from
 * /proc. 150 subscribes to 64 topics each (slow: every topic is authorized and looked up)
 * interleaved with 2 000 junk frames of 60 KB (120 MB in all) must not be buffered in the
 * server: it stops reading the socket past 64 pending frames, so its RSS stays flat, and
 * it keeps answering other clients meanwhile.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KhalaProbe } from '../../harness/khala/khala-probe.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { createRun, signSyncToken, sleep } from '../reliability/load-support.ts';
import { findFreePort, killAllChildren, type ServerProcess, spawnServer } from '../reliability/process-support.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

let db: TestDatabase;
let server: ServerProcess;

beforeAll(async () => {
  db = await createTestDatabase('ws_flood');
  await migrate(db.pool, { buildSha: 'dev' });
  server = await spawnServer({ DATABASE_URL: db.url }, await findFreePort());
});
afterAll(async () => {
  await server?.stop().catch(() => {});
  killAllChildren();
  await db?.drop();
});

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

describe('a flood of frames on one socket', () => {
  it.skipIf(!existsSync('/proc/self/status'))('leaves the server memory flat and other clients served', async () => {
    const pid = server.child.pid!;
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
    const { topic } = await createRun(server.url, 'flooder');
    const flooder = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${await signSyncToken('flooder')}` }, perMessageDeflate: false });
    await new Promise((resolve, reject) => flooder.once('open', resolve).once('error', reject));
    flooder.on('error', () => {});
    const baseline = rssMb(pid);
    const slow = JSON.stringify({ type: 'subscribe', request_id: 'slow', topics: [topic, ...Array.from({ length: 63 }, (_, i) => `fallback-flood-${i}`)] });
    const junk = JSON.stringify({ type: 'nope', pad: 'j'.repeat(60_000) });
    for (let i = 0; i < 150; i++) {
      flooder.send(slow);
      for (let j = 0; j < 13; j++) flooder.send(junk);
    }
    let peak = baseline;
    let bystanderMs = Number.POSITIVE_INFINITY;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 50);
    try {
      await sleep(1500);
      const bystander = await KhalaProbe.open(wsUrl, await signSyncToken('bystander'));
      const started = Date.now();
      bystander.send({ type: 'ping', request_id: 'still-here' });
      await bystander.waitFor((f) => f.type === 'pong', 10_000);
      bystanderMs = Date.now() - started;
      bystander.close();
      await sleep(2500);
    } finally {
      clearInterval(sampler);
      flooder.terminate();
    }
    expect(bystanderMs, 'a ping on another socket is answered during the flood').toBeLessThan(10_000);
    expect(peak - baseline, `server RSS grew from ${baseline.toFixed(0)} MiB to ${peak.toFixed(0)} MiB while 120 MB were sent`).toBeLessThan(80);
    // The server is still healthy afterwards.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});
