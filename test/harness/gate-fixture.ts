/**
 * Shared setup of the harness tests: a real reference server on a database of its
 * own, faulty proxies in front of it, and runGate into a temporary report folder.
 * Every server listens on 127.0.0.1 port 0 and is closed by `close()`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Check } from '../../contracts/generated/report.ts';
import { type RunGateOptions, type RunGateResult, runGate } from '../../harness/run-gate.ts';
import type { TargetSpec } from '../../harness/target.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { type Fault, type FaultyTarget, startFaultyTarget, type WsFault } from '../support/faulty-target.ts';
import { DEV_INTERNAL_TOKEN, startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** Small per-check deadline so a hung endpoint costs 1.5 s, not 30 s. */
export const CHECK_TIMEOUT_MS = 1500;
export const FAILING: Check['status'][] = ['failed', 'error'];

export interface GateRun extends RunGateResult {
  summary: string;
  proxy: FaultyTarget;
  check(id: string): Check;
}

export interface GateFixture {
  upstream: TestServer;
  db: TestDatabase;
  /** The candidate spec for a base URL, with the upstream's credentials. */
  candidate(baseUrl: string, extra?: Partial<TargetSpec>): TargetSpec;
  /** A temporary report folder, removed by close(). */
  outDir(): string;
  /** runGate against a faulty proxy in front of the upstream (closed before returning). */
  runFaulty(faults: Fault[], options?: Partial<RunGateOptions> & { target?: Partial<TargetSpec>; wsFaults?: WsFault[] }): Promise<GateRun>;
  close(): Promise<void>;
}

/** A reference server on a fresh migrated database; env adds RUNTIME_* variables. */
export async function startGateFixture(label: string, env: Record<string, string> = {}): Promise<GateFixture> {
  const db = await createTestDatabase(label, 20);
  const dirs: string[] = [];
  let upstream: TestServer | undefined;
  const fixture: GateFixture = {
    db,
    get upstream() {
      return upstream!;
    },
    candidate(baseUrl, extra = {}) {
      return { name: 'faulty', base_url: baseUrl, internal_token: DEV_INTERNAL_TOKEN, sync_signing_key: upstream!.config.sync.signingKey, ...extra };
    },
    outDir() {
      const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-harness-'));
      dirs.push(dir);
      return dir;
    },
    async runFaulty(faults, options = {}) {
      const { target, wsFaults, ...rest } = options;
      const proxy = await startFaultyTarget(upstream!.url, faults, wsFaults);
      try {
        const result = await runGate({ candidate: fixture.candidate(proxy.url, target), outDir: join(fixture.outDir(), 'report'), checkTimeoutMs: CHECK_TIMEOUT_MS, ...rest });
        return {
          ...result,
          proxy,
          summary: readFileSync(join(result.dir, 'SUMMARY.md'), 'utf8'),
          check(id: string) {
            const found = result.report.checks.find((c) => c.check_id === id);
            expect(found, `check ${id} is in the report`).toBeDefined();
            return found!;
          },
        };
      } finally {
        await proxy.close();
      }
    },
    async close() {
      await upstream?.close();
      await db.drop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await migrate(db.pool, { buildSha: 'dev' });
    upstream = await startTestServer(db, { LOG_LEVEL: 'warn', ...env });
  } catch (error) {
    await fixture.close();
    throw error;
  }
  return fixture;
}

/**
 * The rule "every lane must be able to fail": the run is NO-GO, the check is failed or
 * error for the expected reason, and SUMMARY.md names it among the failing checks.
 */
export function expectCheckFails(run: GateRun, checkId: string, reason: RegExp): void {
  const check = run.check(checkId);
  expect(FAILING, `${checkId} is ${check.status}: ${check.detail}`).toContain(check.status);
  expect(check.detail).toMatch(reason);
  expect(check.required).toBe('required');
  expect(run.report.decision).toBe('NO-GO');
  expect(run.exitCode).toBe(1);
  const failingSection = run.summary.split(/^## Failing checks/m)[1]?.split(/^## /m)[0] ?? '';
  expect(failingSection, 'SUMMARY.md lists the check under "Failing checks"').toContain(`\`${checkId}\``);
}
