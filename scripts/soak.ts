/**
 * `npm run soak -- --minutes N`: load with fault injection against the reference server on
 * the embedded PostgreSQL (issue 9 §6).
 *
 * The run is split into phases (default 30 s). In each phase writers append to fresh runs
 * through the HTTP API (an unanswered write is retried with its idempotency key), Khala
 * subscribers follow every topic through a KhalaFaultProxy that duplicates, reorders and
 * delays frames and drops connections, and a late subscriber replays from seq 0. At the end
 * of a phase the writers stop and every subscriber's applied ledger is compared with the
 * journal, and every acknowledged write is looked up in it. Throughout, hostile HTTP requests
 * and WebSocket frames probe the server. Prints the figures; exits 1 on any anomaly or loss.
 *
 * Options: --minutes N (default 1), --writers N (8), --subscribers N (3 per phase),
 * --phase-seconds N (30), --seed N (1), --data-dir DIR (.runtime-gate/soak, wiped first).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { PACKAGE_ROOT } from '../contracts/contract-files.ts';
import { type FaultCounts, KhalaFaultProxy } from '../harness/khala/fault-proxy.ts';
import { KhalaProbe } from '../harness/khala/khala-probe.ts';
import { startEmbeddedDatabase } from '../reference-server/db/embedded-database.ts';
import { createPool } from '../reference-server/db/pool.ts';
import { serve } from '../reference-server/main.ts';
import {
  createRun,
  DEV_INTERNAL_TOKEN,
  fatalAnomalies,
  journalProblems,
  type RecordingSubscriber,
  settleSubscribers,
  signSyncToken,
  sleep,
  startSubscriber,
  startWriters,
} from '../test/reliability/load-support.ts';
import { sendRaw } from '../test/security/hostile-support.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    writers: { type: 'string', default: '8' },
    subscribers: { type: 'string', default: '3' },
    'phase-seconds': { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    'data-dir': { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const writerCount = Number(values.writers);
const subscriberCount = Number(values.subscribers);
const phaseSeconds = Number(values['phase-seconds']);
const seed = Number(values.seed);
if (!(minutes > 0) || !(writerCount > 0) || !(subscriberCount > 0) || !(phaseSeconds >= 5) || !Number.isInteger(seed)) {
  console.error('usage: npm run soak -- --minutes N [--writers N] [--subscribers N] [--phase-seconds N ≥ 5] [--seed N]');
  process.exit(2);
}

const log = (line: string) => console.log(`soak ${new Date().toISOString().slice(11, 19)} ${line}`);
const anomalies: string[] = [];
const anomaly = (line: string) => {
  if (anomalies.length < 200) anomalies.push(line);
  log(`ANOMALY ${line}`);
};

// --- the server on the embedded PostgreSQL --------------------------------------------------
const dataDir = values['data-dir'] ?? join(PACKAGE_ROOT, '.runtime-gate', 'soak');
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
chmodSync(join(PACKAGE_ROOT, '.runtime-gate'), 0o755);
chmodSync(dataDir, 0o755);
const database = await startEmbeddedDatabase({ dataDir });
const running = await serve({
  env: { RUNTIME_ENV: 'dev', LOG_LEVEL: 'error', DATABASE_URL: database.url, RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '100000', RUNTIME_KHALA_HEARTBEAT_MS: '1000', RUNTIME_DB_POOL_MAX: '16' },
  migrate: true,
  port: 0,
});
if ('exitCode' in running) {
  await database.stop();
  process.exit(2);
}
const baseUrl = running.url;
const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
const pool = createPool(database.url, { max: 4 });
log(`reference server on ${baseUrl} (embedded PostgreSQL in ${dataDir}); ${minutes} min, ${writerCount} writers, ${subscriberCount}+1 subscribers per phase, seed ${seed}`);

// --- figures ------------------------------------------------------------------------------------
const figures = {
  phases: 0,
  /** Seconds the writers were running (phases also spend time settling and comparing ledgers). */
  writingSeconds: 0,
  written: 0,
  replayedWrites: 0,
  unansweredWrites: 0,
  delivered: 0,
  subscribers: 0,
  reconnects: 0,
  lateReplays: 0,
  faults: { duplicated: 0, reordered: 0, delayed: 0, dropped: 0 } as Omit<FaultCounts, 'connections' | 'forwarded'>,
  badHttp: 0,
  badWs: 0,
  lost: 0,
};

// --- hostile inputs, all along --------------------------------------------------------------------
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
let hostileRunId = '';
function hostileRequest(): { method: string; path: string; body?: string | Buffer; headers: Record<string, string> } {
  const auth = { authorization: `Bearer ${DEV_INTERNAL_TOKEN}`, 'content-type': 'application/json' };
  const [body] = fc.sample(
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
      fc.string({ maxLength: 80 }),
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
      fc.integer({ min: 129, max: 20_000 }).map((n) => `{"event_type":"x","idempotency_key":"k","payload":{"a":${deep(n)}}}`),
      fc.constantFrom('{', '{"event_type":"\\u0000","idempotency_key":"k","payload":{}}', `{"event_type":"x","idempotency_key":"k","payload":{"s":"${'a'.repeat(70_000)}"}}`, '{"__proto__":{}}'),
    ),
    { numRuns: 1, seed: Math.floor(Math.random() * 2 ** 31) },
  );
  const [path] = fc.sample(
    fc.constantFrom(
      `/internal/v1/runs/${hostileRunId}/events`,
      '/internal/v1/runs',
      '/internal/v1/sync/token',
      '/internal/v1/credit/intent',
      '/internal/v1/credit/settle',
      `/internal/v1/runs/${encodeURIComponent('\u0000')}`,
      `/internal/v1/khala/topics/${encodeURIComponent(`run:${hostileRunId}:events`)}/messages?after_seq=-1&limit=abc`,
      `/internal/v1/runs/${'x'.repeat(400)}`,
    ),
    { numRuns: 1, seed: Math.floor(Math.random() * 2 ** 31) },
  );
  const method = path!.includes('/messages') || /runs\/[^/]+$/.test(path!) ? 'GET' : 'POST';
  return { method, path: path!, headers: auth, ...(method === 'POST' ? { body: body! } : {}) };
}

async function hostileHttpLoop(until: number): Promise<void> {
  while (Date.now() < until) {
    const req = hostileRequest();
    figures.badHttp += 1;
    try {
      const response = await sendRaw(baseUrl, { ...req, timeoutMs: 15_000 });
      if (response.status >= 500) anomaly(`hostile ${req.method} ${req.path.slice(0, 80)} → ${response.status} ${response.text.slice(0, 200)}`);
    } catch (error) {
      anomaly(`hostile ${req.method} ${req.path.slice(0, 80)}: ${(error as Error).message.slice(0, 200)}`);
    }
    await sleep(40);
  }
}

async function hostileWsLoop(until: number): Promise<void> {
  let probe: KhalaProbe | undefined;
  let pings = 0;
  while (Date.now() < until) {
    try {
      probe ??= await KhalaProbe.open(wsUrl, await signSyncToken('soak-hostile'));
      const [frame] = fc.sample(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
          fc.string({ maxLength: 60 }),
          fc.record({ type: fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'x'), request_id: fc.string({ maxLength: 10 }), topics: fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('\u0000', `run:${hostileRunId}:events`)), { maxLength: 5 }) }, { requiredKeys: ['type'] }).map((f) => JSON.stringify(f)),
          fc.constant(JSON.stringify({ type: 'ping', request_id: 'big', pad: 'x'.repeat(70_000) })),
        ),
        { numRuns: 1, seed: Math.floor(Math.random() * 2 ** 31) },
      );
      const from = probe.frames.length;
      probe.send(frame!);
      figures.badWs += 1;
      const id = `soak-ping-${++pings}`;
      probe.send({ type: 'ping', request_id: id });
      await probe.waitFor((f) => f.type === 'pong' && f.request_id === id, 10_000, from);
      const internal = probe.frames.slice(from).filter((f) => f.type === 'error' && f.code === 'internal_error');
      if (internal.length > 0) anomaly(`hostile frame ${frame!.slice(0, 100)} → internal_error`);
      if (probe.invalidFrames.length > 0) anomaly(`server frames break the contract: ${probe.invalidFrames.splice(0).join('; ').slice(0, 300)}`);
      if (probe.frames.length > 10_000) probe.frames.splice(0, probe.frames.length);
    } catch (error) {
      anomaly(`hostile WebSocket: ${(error as Error).message.slice(0, 200)}`);
      probe?.close();
      probe = undefined;
    }
    await sleep(40);
  }
  probe?.close();
}

// --- phases of load with transport faults ---------------------------------------------------------
let dropSeed = seed;
/** Frames after which each successive proxied connection is dropped: 30–429, from a seeded LCG. */
const nextDrops = () =>
  Array.from({ length: 2000 }, () => {
    dropSeed = (dropSeed * 1103515245 + 12345) % 2 ** 31;
    return 30 + (dropSeed % 400);
  });

async function runPhase(index: number, seconds: number): Promise<void> {
  const owner = `soak-owner-${index}`;
  const runs = await Promise.all(Array.from({ length: 4 }, () => createRun(baseUrl, owner)));
  const topics = runs.map((r) => r.topic);
  const proxies: KhalaFaultProxy[] = [];
  const subscribers: RecordingSubscriber[] = [];
  const subscribeThroughProxy = async (subscriberTopics: string[]) => {
    const proxy = new KhalaFaultProxy(wsUrl, { duplicate: 0.05, reorder: 0.05, delayMs: [0, 3], dropAfterFrames: nextDrops(), seed: seed * 1000 + index * 10 + proxies.length });
    proxies.push(proxy);
    const url = await proxy.start();
    subscribers.push(await startSubscriber({ wsUrl: () => url, topics: subscriberTopics, owner, gapTimeoutMs: 500 }));
  };
  for (let i = 0; i < subscriberCount; i++) await subscribeThroughProxy(topics);
  const writers = startWriters({ baseUrl: () => baseUrl, runIds: runs.map((r) => r.runId), count: writerCount, label: `soak${index}-${randomBytes(2).toString('hex')}` });
  await sleep((seconds * 1000) / 2);
  // A late subscriber replays what the first half wrote while writes continue.
  await subscribeThroughProxy(topics.slice(0, 2));
  figures.lateReplays += 1;
  await sleep((seconds * 1000) / 2);
  await writers.stop();
  figures.writingSeconds += seconds;

  const problems = [...writers.stats.conflicts, ...(await journalProblems(pool, runs.map((r) => r.runId), writers.stats.acked))];
  figures.lost += problems.filter((p) => p.includes('not in runtime.run_events')).length;
  problems.push(...(await settleSubscribers(pool, subscribers, 60_000)), ...fatalAnomalies(subscribers));
  for (const problem of problems) anomaly(`phase ${index}: ${problem}`);

  figures.phases += 1;
  figures.written += writers.stats.acked.size;
  figures.replayedWrites += writers.stats.replays;
  figures.unansweredWrites += writers.stats.unanswered;
  figures.subscribers += subscribers.length;
  for (const s of subscribers) {
    figures.delivered += [...s.ledgers.values()].reduce((n, l) => n + l.length, 0);
    figures.reconnects += Math.max(0, s.client.connections - 1);
  }
  for (const proxy of proxies) for (const kind of ['duplicated', 'reordered', 'delayed', 'dropped'] as const) figures.faults[kind] += proxy.counts[kind];
  await Promise.all(subscribers.map((s) => s.client.close()));
  await Promise.all(proxies.map((p) => p.stop()));
  log(`phase ${index}: ${writers.stats.acked.size} writes acknowledged, ${problems.length} problems; totals: ${figures.written} written, ${figures.delivered} delivered, ${figures.reconnects} resumes, faults ${JSON.stringify(figures.faults)}`);
}

const started = Date.now();
const until = started + minutes * 60_000;
let exitCode = 0;
try {
  hostileRunId = (await createRun(baseUrl, 'soak-hostile')).runId;
  const hostile = [hostileHttpLoop(until), hostileWsLoop(until)];
  for (let index = 1; Date.now() < until; index++) {
    const left = (until - Date.now()) / 1000;
    await runPhase(index, Math.max(5, Math.min(phaseSeconds, left)));
  }
  await Promise.all(hostile);
  const metrics = await fetch(`${baseUrl}/metrics`).then((r) => r.text());
  const server5xx = [...metrics.matchAll(/^runtime_http_requests_total\{[^}]*status="(5\d\d)"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
  const serverReplays = [...metrics.matchAll(/^khala_replays_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  if (server5xx > 0) anomaly(`the server answered ${server5xx} requests with 5xx (runtime_http_requests_total)`);
  const seconds = (Date.now() - started) / 1000;
  const faultTotal = Object.values(figures.faults).reduce((a, b) => a + b, 0);
  console.log(`
runtime-gate soak: ${seconds.toFixed(0)} s, ${figures.phases} phases, ${writerCount} writers, ${figures.subscribers} subscribers (seed ${seed})
  events written (acknowledged)   ${figures.written}  (${(figures.written / figures.writingSeconds).toFixed(0)} events/s held while writing, ${figures.writingSeconds.toFixed(0)} s; ${(figures.written / seconds).toFixed(0)} events/s over the whole run)
  writes retried after no answer  ${figures.unansweredWrites}  (settled by idempotent replay: ${figures.replayedWrites})
  events delivered and applied    ${figures.delivered}
  replays / resumes               ${figures.lateReplays} late replays from seq 0, ${figures.reconnects} resumes after dropped connections, ${serverReplays} server replays
  faults injected                 ${faultTotal}: duplicated ${figures.faults.duplicated}, reordered ${figures.faults.reordered}, delayed ${figures.faults.delayed}, dropped ${figures.faults.dropped}
  bad inputs tried                ${figures.badHttp + figures.badWs}: HTTP ${figures.badHttp}, WebSocket ${figures.badWs}
  anomalies found                 ${anomalies.length}
  data lost                       ${figures.lost}`);
  if (anomalies.length > 0 || figures.lost > 0) {
    console.log(`\nfirst anomalies:\n  ${anomalies.slice(0, 20).join('\n  ')}`);
    exitCode = 1;
  }
} catch (error) {
  console.error(`soak failed: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await pool.end().catch(() => {});
  await running.stop().catch(() => {});
  await database.stop().catch(() => {});
}
process.exit(exitCode);
