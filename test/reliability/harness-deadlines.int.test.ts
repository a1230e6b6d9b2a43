/**
 * Harness deadlines (issue 9 §4): runGate against a target that never answers and one that
 * answers every request slower than the check deadline finishes with a NO-GO whose checks
 * name the deadline, and never runs past the run deadline (plus the preflight's requests).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReportFolder } from '../../harness/report/index.ts';
import { runGate } from '../../harness/run-gate.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { type FaultyTarget, startFaultyTarget } from '../support/faulty-target.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { type HostileTarget, startHostileTarget } from './hostile-targets.ts';
import { DEV_INTERNAL_TOKEN, DEV_SIGNING_KEY } from './load-support.ts';

const CHECK_TIMEOUT_MS = 1000;
const RUN_TIMEOUT_MS = 5000;
/** runGate's preflight asks /readyz, /healthz and /internal/v1/health with 5 s each before the run deadline starts. */
const PREFLIGHT_MS = 3 * 5000;

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
  });
  return { run, elapsedMs: Date.now() - started };
}

describe('runGate deadlines', () => {
  let hungElapsedMs = 0;

  it('a target that accepts connections and never answers: NO-GO naming the deadline, within the run deadline plus preflight', async () => {
    const hung: HostileTarget = await startHostileTarget({ http: () => {}, upgrade: () => {} });
    closers.push(() => hung.close());
    const { run, elapsedMs } = await gate(hung.url);
    hungElapsedMs = elapsedMs;
    expect(run.report.decision).toBe('NO-GO');
    expect(run.exitCode).toBe(1);
    expect(elapsedMs).toBeLessThan(RUN_TIMEOUT_MS + PREFLIGHT_MS + 3000);
    const failing = run.report.checks.filter((c) => c.status === 'failed' || c.status === 'error');
    expect(failing.some((c) => /deadline|within/.test(c.detail)), failing.map((c) => c.detail).join('\n')).toBe(true);
    expect(failing.some((c) => /whole-run deadline/.test(c.detail)), 'checks after the run deadline are reported, not run').toBe(true);
    expect(verifyReportFolder(run.dir).problems).toEqual([]);
  });

  // KNOWN GAP (reported): runGate's preflight (harness/run-gate.ts) spends up to 3 × 5 s on a
  // hung target before the run deadline starts, so runTimeoutMs does not bound the whole run.
  // Flip to it() once the preflight shares the run deadline.
  it.fails('…and the whole run, preflight included, stays within runTimeoutMs', () => {
    expect(hungElapsedMs).toBeGreaterThan(0);
    expect(hungElapsedMs).toBeLessThan(RUN_TIMEOUT_MS + 2000);
  });

  it('a target slower than every check deadline: NO-GO naming the deadline, within the run deadline', async () => {
    const slow: FaultyTarget = await startFaultyTarget(upstream.url, [{ path: /.*/, delayMs: 1500 }]);
    closers.push(() => slow.close());
    const { run, elapsedMs } = await gate(slow.url);
    expect(run.report.decision).toBe('NO-GO');
    expect(elapsedMs).toBeLessThan(RUN_TIMEOUT_MS + 3 * 1500 + 3000);
    const failing = run.report.checks.filter((c) => c.status === 'failed' || c.status === 'error');
    expect(failing.some((c) => /deadline exceeded|no answer within the deadline/.test(c.detail)), failing.map((c) => c.detail).join('\n')).toBe(true);
  });
});
