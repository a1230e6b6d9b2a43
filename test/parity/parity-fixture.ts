/**
 * Two reference servers on two databases — the baseline and the candidate's upstream —
 * with small run_events budgets (profile test, so the stale-cursor scenario runs), and
 * runGate on the parity lane with the candidate behind the faulty target (HTTP faults and,
 * when a test asks, rewritten WebSocket frames).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Check } from '../../contracts/generated/report.ts';
import type { ParityReport } from '../../harness/parity/parity-report.ts';
import { type RunGateOptions, type RunGateResult, runGate } from '../../harness/run-gate.ts';
import type { TargetSpec } from '../../harness/target.ts';
import { type GateFixture, startGateFixture } from '../harness/gate-fixture.ts';
import { type Fault, type FaultyTarget, startFaultyTarget, type WsFault } from '../support/faulty-target.ts';

/** Small budgets: the stale-cursor scenario appends budget + 2 events per target. */
export const SMALL_BUDGETS = {
  RUNTIME_KHALA_RUN_EVENTS_REPLAY_BUDGET_EVENTS: '12',
  RUNTIME_KHALA_RUN_EVENTS_RETENTION_EVENTS: '200',
};

export interface ParityRun extends RunGateResult {
  parity: ParityReport;
  check(id: string): Check;
}

export interface ParityFixture {
  baseline: GateFixture;
  candidate: GateFixture;
  baselineSpec(extra?: Partial<TargetSpec>): TargetSpec;
  /** runGate (parity lane) against the candidate behind faults. */
  run(options?: { faults?: Fault[]; proxy?: FaultyTarget; wsFaults?: WsFault[]; gate?: Partial<RunGateOptions>; candidate?: Partial<TargetSpec> }): Promise<ParityRun>;
  close(): Promise<void>;
}

export async function startParityFixture(label: string): Promise<ParityFixture> {
  const [baseline, candidate] = await Promise.all([startGateFixture(`${label}_base`, SMALL_BUDGETS), startGateFixture(`${label}_cand`, SMALL_BUDGETS)]);
  const fixture: ParityFixture = {
    baseline,
    candidate,
    baselineSpec: (extra = {}) => ({ ...baseline.candidate(baseline.upstream.url), name: 'baseline', profile: 'test', ...extra }),
    async run(options = {}) {
      // A given proxy (e.g. shared by the shards of one run) stays open; a new one is closed after the run.
      const proxy = options.proxy ?? (await startFaultyTarget(candidate.upstream.url, options.faults ?? [], options.wsFaults ?? []));
      try {
        const result = await runGate({
          candidate: candidate.candidate(proxy.url, { name: 'candidate', profile: 'test', ...options.candidate }),
          baseline: fixture.baselineSpec(),
          lanes: ['parity'],
          outDir: join(candidate.outDir(), 'report'),
          ...options.gate,
        });
        const parity = JSON.parse(readFileSync(join(result.dir, 'parity-report.json'), 'utf8')) as ParityReport;
        return {
          ...result,
          parity,
          check(id: string) {
            const found = result.report.checks.find((c) => c.check_id === id);
            expect(found, `check ${id} is in the report`).toBeDefined();
            return found!;
          },
        };
      } finally {
        if (!options.proxy) await proxy.close();
      }
    },
    async close() {
      await Promise.all([baseline.close(), candidate.close()]);
    },
  };
  return fixture;
}

/** Failing checks with their details, for assertion messages. */
export function describeChecks(run: RunGateResult): string {
  return run.report.checks.map((c) => `${c.check_id} ${c.status}: ${c.detail}`).join('\n');
}
