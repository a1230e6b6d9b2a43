/**
 * K9: two reference-server processes on one database serve the same ledger, and a
 * write through one reaches live subscribers of the other within 1 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';
import { KhalaClient } from '../../harness/khala/khala-client.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { type ContractClient, createContractClient, DEV_INTERNAL_TOKEN } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const BIN = join(PACKAGE_ROOT, 'bin', 'runtime-gate.mjs');
let db: TestDatabase;
const nodes: { child: ChildProcess; url: string; api: ContractClient }[] = [];

function startNode(databaseUrl: string, instance: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DATABASE_URL: databaseUrl, RUNTIME_INSTANCE_ID: instance, LOG_LEVEL: 'info', RUNTIME_KHALA_FALLBACK_POLL_MS: '200' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${instance} did not start: ${buffer}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"reference server listening"/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`${instance} exited ${code}: ${buffer}`)));
  });
}

beforeAll(async () => {
  db = await createTestDatabase('khala_multinode');
  await migrate(db.pool, { buildSha: 'dev' });
  for (const name of ['node-a', 'node-b']) {
    const node = await startNode(db.url, name);
    nodes.push({ ...node, api: await createContractClient(node.url, DEV_INTERNAL_TOKEN) });
  }
}, 60_000);
afterAll(async () => {
  await Promise.all(nodes.map(({ child }) => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); })));
  await db?.drop();
});

describe('K9 multi-node', () => {
  it('a write through node A reaches a live subscriber on node B within 1 s, and both replay the same ledger', async () => {
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const run = await a.api.call('POST', '/internal/v1/runs', { headers: { 'x-oa-user-id': 'owner' } });
    const topic = `run:${run.body.run.id}:events`;
    const token = (await b.api.call('POST', '/internal/v1/sync/token', { body: { sub: 'owner', scopes: ['runtime.run_events'], ttl_seconds: 300 } })).body.token;
    const arrivals = new Map<number, number>();
    const live = new KhalaClient({ url: `${b.url.replace('http', 'ws')}/internal/v1/khala/ws`, token, topics: [topic], initialCursor: 'live', onApply: (u) => arrivals.set(u.seq, performance.now()) });
    await live.start();
    try {
      const latencies: number[] = [];
      for (let i = 0; i < 10; i++) {
        const writer = i % 2 === 0 ? a : b;
        const sent = performance.now();
        const written = await writer.api.call('POST', `/internal/v1/runs/${run.body.run.id}/events`, { body: { event_type: 'run.step', idempotency_key: `m${i}`, payload: { i } } });
        await live.waitForSeq(topic, written.body.event.seq, 1000);
        latencies.push(arrivals.get(written.body.event.seq)! - sent);
      }
      expect(Math.max(...latencies)).toBeLessThan(1000);
      const ledgers = await Promise.all(nodes.map(async (node) => (await node.api.call('GET', `/internal/v1/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=0`, { token })).body.messages.map((m: any) => [m.seq, m.payload_hash, m.epoch])));
      expect(ledgers[0]).toHaveLength(10);
      expect(ledgers[1]).toEqual(ledgers[0]);
      expect(live.anomalies.filter((x) => x.kind !== 'duplicate')).toEqual([]);
    } finally {
      await live.close();
    }
  });

  it('revoking a session on node A evicts its socket on node B', async () => {
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const token = (await b.api.call('POST', '/internal/v1/sync/token', { body: { sub: 'owner', scopes: ['runtime.read'], ttl_seconds: 300, session_id: 'multi-node-session' } })).body.token;
    const client = new KhalaClient({ url: `${b.url.replace('http', 'ws')}/internal/v1/khala/ws`, token, topics: ['misc.topic'], initialCursor: 'live' });
    await client.start();
    const revoked = new Promise<void>((resolve) => client.once('revoked', () => resolve()));
    await a.api.call('POST', '/internal/v1/sync/sessions/revoke', { body: { session_ids: ['multi-node-session'], reason: 'test' } });
    await revoked;
    await client.close();
  });
});
