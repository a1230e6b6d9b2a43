/**
 * Harness deadlines (issue 9 §4): runGate against a target that stops answering and one that
 * answers every request slower than the check deadline finishes with a NO-GO whose checks
 * name the deadline, and never runs past the run deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReportFolder } from '../../harness/report/index.ts';
import { runGate } from '../../harness/run-gate.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { type FaultyTarget, startFaultyTarget } from '../support/faulty-target.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { type HostileTarget, startHostileTarget } from './hostile-targets.ts';
import { DEV_INTERNAL_TOKEN, DEV_SIGNING_KEY, sleep } from './load-support.ts';

const CHECK_TIMEOUT_MS = 1000;
const RUN_TIMEOUT_MS = 5000;
/**
 * How far past its deadline a run may end on a loaded 2-core machine (writing the report,
 * a starved event loop). Without working deadlines these runs take minutes (every check
 * and request waiting out its own timeout), so the bound still tells the two apart.
 */
const LOADED_MACHINE_MARGIN_MS = 25_000;

let db: TestDatabase;
let upstream: TestServer;
const closers: (() => Promise<void>)[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  db = await createTestDatabase('harness_deadlines');
  await migrate(db.pool, { buildSha: 'dev' });
  upstream = await startTestServer(db, { LOG_LEVEL: 'warn' });
});
afterAll(async () => {
  for (const close of closers) await close();
  await upstream?.close();
  await db?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function gate(baseUrl: string) {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-deadline-'));
  dirs.push(dir);
  const started = Date.now();
  const run = await runGate({
    candidate: { name: 'slow', base_url: baseUrl, internal_token: DEV_INTERNAL_TOKEN, sync_signing_key: DEV_SIGNING_KEY },
    outDir: join(dir, 'report'),
    checkTimeoutMs: CHECK_TIMEOUT_MS,
    runTimeoutMs: RUN_TIMEOUT_MS,
    ...(process.env.RELIABILITY_DEBUG ? { onProgress: (l: string) => console.log(Date.now() - started, l), onCheckFinished: (c: { check_id: string; status: string }) => console.log(Date.now() - started, c.check_id, c.status) } : {}),
  });
  return { run, elapsedMs: Date.now() - started };
}

describe('runGate deadlines', () => {
  it('a target that answers the preflight, then never answers again: NO-GO naming the deadline, within the run deadline', async () => {
    let answered = 0;
    const hung: HostileTarget = await startHostileTarget({
      http: (req, res) => {
        // The three preflight requests get an answer; everything after hangs.
        if (answered++ < 3 && /^\/(readyz|healthz|internal\/v1\/health)/.test(req.url ?? '')) {
          const body = JSON.stringify({ status: 'ok', service: 'runtime', build_sha: 'dev', authority_write_mode: 'read_only' });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
        }
      },
      upgrade: () => {},
    });
    closers.push(() => hung.close());
    const { run, elapsedMs } = await gate(hung.url);
    expect(run.report.decision).toBe('NO-GO');
    expect(run.exitCode).toBe(1);
    expect(elapsedMs).toBeLessThan(RUN_TIMEOUT_MS + LOADED_MACHINE_MARGIN_MS);
    const failing = run.report.checks.filter((c) => c.status === 'failed' || c.status === 'error');
    expect(failing.some((c) => /deadline exceeded|no answer within the deadline/.test(c.detail)), failing.map((c) => c.detail).join('\n')).toBe(true);
    expect(failing.some((c) => /whole-run deadline/.test(c.detail)), 'checks after the run deadline are reported, not run').toBe(true);
    expect(verifyReportFolder(run.dir).problems).toEqual([]);
  });

  // Regression: the preflight used to spend up to 3 × 5 s outside the run deadline, and the
  // per-request deadline (AbortSignal.any + AbortSignal.timeout) could be garbage-collected
  // on Node 20 and never fire. Forced GC keeps that second failure reproducible.
  it('a target that never answers at all: the whole run, preflight included, ends within runTimeoutMs even when GC runs', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const hung: HostileTarget = await startHostileTarget({ http: () => {}, upgrade: () => {} });
    const collector = setInterval(gc, 50);
    const running = gate(hung.url);
    try {
      const outcome = await Promise.race([running.then(() => 'finished'), sleep(RUN_TIMEOUT_MS + LOADED_MACHINE_MARGIN_MS).then(() => 'still running')]);
      expect(outcome).toBe('finished');
    } finally {
      clearInterval(collector);
      // Cut the hung connections so the abandoned run ends now rather than in minutes.
      await hung.close();
      await Promise.race([running.catch(() => {}), sleep(20_000)]);
    }
  });

  it('a target slower than every check deadline: NO-GO naming the deadline, within the run deadline', async () => {
    const slow: FaultyTarget = await startFaultyTarget(upstream.url, [{ path: /.*/, delayMs: 1500 }]);
    closers.push(() => slow.close());
    const { run, elapsedMs } = await gate(slow.url);
    expect(run.report.decision).toBe('NO-GO');
    expect(elapsedMs).toBeLessThan(RUN_TIMEOUT_MS + 3 * 1500 + LOADED_MACHINE_MARGIN_MS);
    const failing = run.report.checks.filter((c) => c.status === 'failed' || c.status === 'error');
    expect(failing.some((c) => /deadline exceeded|no answer within the deadline/.test(c.detail)), failing.map((c) => c.detail).join('\n')).toBe(true);
  });
});
