/**
 * The parity lane (SPEC §4 "parity", §5): the baseline and the candidate run the same
 * seeded scenarios (one check each, `parity.scenario.<name>`, so `--shard i/n` splits
 * them), each side's answers are reduced to a normalized ledger and the two ledgers are
 * compared in lockstep; diffs are classified by contracts/parity-policy.json. Without
 * writes (`--no-writes`, a read_only target, or `--read-only-parity`) the lane instead
 * replays the existing topics of `parity_topics` from seq 0 on both. The last check,
 * `parity.gate.decision`, applies `--max-warnings` and `--block-on-critical`; the lane
 * leaves `parity-report.json` and the report's parity summary in the run's artifacts.
 */

import { type CheckContext, type CheckDefinition, CheckFailure, CheckSkip } from '../check-runner.ts';
import { type Comparison, compareLedgers, DiffSink } from '../parity/compare-ledgers.ts';
import { Normalizer } from '../parity/normalize.ts';
import { ObservationRecorder } from '../parity/observation-recorder.ts';
import { loadParityPolicy, PARITY_POLICY_PATH, type ParityPolicy } from '../parity/parity-policy.ts';
import {
  assertValidParityReport,
  buildParityReport,
  DEFAULT_GATE_SETTINGS,
  type ParityComparison,
  type ParityGateSettings,
  type ParityIdentity,
  type ParityReport,
  paritySummaryOf,
  policyReference,
} from '../parity/parity-report.ts';
import { type ParityTopic, pollTopicLedger, topicName } from '../parity/replay-topics.ts';
import { seededRandom } from '../parity/seeded-random.ts';
import type { LaneInputs } from './lane.ts';
import { PARITY_SCENARIOS } from '../scenarios/index.ts';
import { type ParityRole, type ParityScenario, ScenarioAbort, type ScenarioInputs, type ScenarioSide } from '../scenarios/scenario.ts';
import type { TargetSpec } from '../target.ts';
import type { Exchange } from '../target-http.ts';
import { TargetHttp } from '../target-http.ts';

/** Default seed of the scenarios (recorded in parity-report.json; `--parity-seed` changes it). */
export const DEFAULT_PARITY_SEED = 1;
const SCENARIO_TIMEOUT_MS = 60_000;
const REPLAY_TIMEOUT_MS = 10 * 60_000;
const DIFFS_LOGGED = 20;

/** Parity options that travel in LaneInputs (all optional; defaults in brackets). */
export interface ParityLaneOptions {
  /** Warning diffs allowed [0]. */
  maxWarnings?: number;
  /** A critical diff blocks [true]. */
  blockOnCritical?: boolean;
  /** Compare existing topics only, never write [false; also on when writes are not allowed]. */
  parityReadOnly?: boolean;
  /** Seed of the scenarios [1]. */
  paritySeed?: number;
  /** Policy file [contracts/parity-policy.json]. */
  parityPolicyPath?: string;
  /** Diffs kept in parity-report.json (all are counted) [1000]. */
  parityMaxStoredDiffs?: number;
  /** The run's shard; in one shard of several, comparing nothing does not block. */
  shard?: { index: number; count: number };
}

type Inputs = LaneInputs & ParityLaneOptions;

function topicPairs(baseline: TargetSpec, candidate: TargetSpec): { baseline: ParityTopic; candidate: ParityTopic }[] {
  const b = baseline.parity_topics;
  const c = candidate.parity_topics;
  const base = b ?? c ?? [];
  const cand = c ?? b ?? [];
  if (base.length !== cand.length) throw new CheckFailure(`parity_topics: the baseline lists ${base.length} topics, the candidate ${cand.length}; they are compared pairwise`);
  return base.map((entry, i) => ({ baseline: entry, candidate: cand[i]! }));
}

/** State of the lane over one run: policy, identities, the diff sink and the comparisons so far. */
class ParityRun {
  private policyLoaded: ParityPolicy | undefined;
  readonly comparisons: ParityComparison[] = [];
  readonly sink: DiffSink;
  readonly baselineExchanges: Exchange[] = [];
  readonly settings: ParityGateSettings;
  readonly seed: number;

  constructor(readonly inputs: Inputs) {
    this.sink = new DiffSink(inputs.parityMaxStoredDiffs ?? 1000);
    this.settings = {
      maxWarnings: inputs.maxWarnings ?? DEFAULT_GATE_SETTINGS.maxWarnings,
      blockOnCritical: inputs.blockOnCritical ?? DEFAULT_GATE_SETTINGS.blockOnCritical,
      requireComparisons: (inputs.shard?.count ?? 1) <= 1,
    };
    this.seed = inputs.paritySeed ?? DEFAULT_PARITY_SEED;
  }

  get policy(): ParityPolicy {
    this.policyLoaded ??= loadParityPolicy(this.inputs.parityPolicyPath ?? PARITY_POLICY_PATH);
    return this.policyLoaded;
  }

  baseline(): TargetSpec {
    if (!this.inputs.baseline) throw new CheckSkip('missing_input:baseline');
    return this.inputs.baseline;
  }

  /** A context for one side: its own target, HTTP client and log prefix (same deadline). */
  side(ctx: CheckContext, checkId: string, role: ParityRole): CheckContext {
    const target = role === 'baseline' ? this.baseline() : ctx.target;
    const log = (line: string) => ctx.log(`[${role}] ${line}`);
    // Candidate exchanges join the run's (the contract lane validates them); the baseline's stay apart.
    const exchanges = role === 'baseline' ? this.baselineExchanges : ctx.run.exchanges;
    return { ...ctx, target, log, http: new TargetHttp(target, exchanges, checkId, ctx.signal, log) };
  }

  /** Both targets as their /internal/v1/health described them in runGate's preflight. */
  identity(ctx: CheckContext): { baseline: ParityIdentity & { payment_backend: string | null }; candidate: ParityIdentity & { payment_backend: string | null } } {
    const ids = this.inputs.identities;
    if (!ids?.baseline) throw new Error('the parity lane runs inside runGate, which reads both targets\u2019 identities first');
    const baseline = this.baseline();
    return { baseline: { name: baseline.name, base_url: baseline.base_url, ...ids.baseline }, candidate: { name: ctx.target.name, base_url: ctx.target.base_url, ...ids.candidate } };
  }

  readOnly(ctx: CheckContext): boolean {
    return Boolean(this.inputs.parityReadOnly) || !ctx.run.allowWrites;
  }

  /** Rebuilds parity-report.json and the summary from everything compared so far. */
  async publish(ctx: CheckContext): Promise<ParityReport> {
    const ids = this.identity(ctx);
    const strip = ({ payment_backend: _, ...identity }: ParityIdentity & { payment_backend: string | null }) => identity;
    const report = assertValidParityReport(
      buildParityReport({
        seed: this.seed,
        policy: policyReference(this.inputs.parityPolicyPath ?? PARITY_POLICY_PATH),
        baseline: strip(ids.baseline),
        candidate: strip(ids.candidate),
        comparisons: this.comparisons,
        diffs: this.sink.stored,
        counted: this.sink.totals,
        settings: this.settings,
      }),
    );
    this.inputs.artifacts.set('parity-report.json', report);
    this.inputs.artifacts.set('parity-summary', paritySummaryOf(report));
    return report;
  }

  /** Logs a comparison's stored diffs and turns it into the check's outcome. */
  conclude(ctx: CheckContext, comparison: ParityComparison): string {
    const mine = this.sink.stored.filter((d) => d.scenario === comparison.scenario);
    for (const diff of mine.slice(0, DIFFS_LOGGED)) ctx.log(`${diff.severity}: ${diff.message}`);
    const summary = `${comparison.events_compared} observations compared (baseline ${comparison.baseline_events}, candidate ${comparison.candidate_events}): ${comparison.critical} critical, ${comparison.warning} warning, ${comparison.ignored} ignored diffs`;
    if (comparison.critical > 0 && this.settings.blockOnCritical) {
      const first = mine.find((d) => d.severity === 'critical');
      throw new CheckFailure(`${summary}; first critical: ${first?.message ?? '(not stored: diff cap reached)'}`);
    }
    return summary;
  }

  /** Records a skipped scenario in parity-report.json (with its reason) and skips the check. */
  private async skip(ctx: CheckContext, scenario: ParityScenario, checkId: string, reason: string): Promise<never> {
    this.comparisons.push(skipped(scenario.name, checkId, reason));
    await this.publish(ctx);
    throw new CheckSkip(reason);
  }

  async runScenario(ctx: CheckContext, checkId: string, scenario: ParityScenario): Promise<string> {
    const baseline = this.baseline();
    // Scenario checks need writes, so the runner already skipped them where the candidate takes none.
    if (this.inputs.parityReadOnly) await this.skip(ctx, scenario, checkId, 'read-only parity (--read-only-parity): existing topics are compared instead');
    const ids = this.identity(ctx);
    if (ids.baseline.authority_write_mode !== 'rust_active') {
      await this.skip(ctx, scenario, checkId, `the baseline does not accept writes (authority_write_mode ${ids.baseline.authority_write_mode ?? 'unknown'})`);
    }
    const skip = scenario.skipReason?.({
      targets: { baseline, candidate: ctx.target },
      paymentBackends: { baseline: ids.baseline.payment_backend, candidate: ids.candidate.payment_backend },
      allowPayments: ctx.run.allowPayments,
    });
    if (skip) await this.skip(ctx, scenario, checkId, skip);
    const inputs: ScenarioInputs = { seed: this.seed, probeId: ctx.probeId, now: Date.now() };
    const runSide = async (role: ParityRole): Promise<{ recorder: ObservationRecorder; aborted?: string }> => {
      const side: ScenarioSide = {
        role,
        ctx: this.side(ctx, checkId, role),
        rec: new ObservationRecorder(new Normalizer(this.policy.file.normalize)),
        random: seededRandom(this.seed, scenario.name),
        inputs,
      };
      try {
        await scenario.run(side);
        return { recorder: side.rec };
      } catch (error) {
        const reason = error instanceof ScenarioAbort ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
        side.ctx.log(`scenario stopped: ${reason}`);
        side.rec.record('scenario', 'abort', { reason: error instanceof ScenarioAbort ? error.message : 'error' });
        return { recorder: side.rec, aborted: reason };
      }
    };
    const [base, cand] = await Promise.all([runSide('baseline'), runSide('candidate')]);
    // Evidence: what each side's consumers saw (HTTP exchanges are logged as they happen).
    for (const [role, recorder] of [['baseline', base.recorder], ['candidate', cand.recorder]] as const) {
      for (const entry of recorder.entries) if (entry.component === 'khala' && entry.key.startsWith('ws')) ctx.log(`[${role}] ${entry.key} ${JSON.stringify(entry.value).slice(0, 300)}`);
    }
    const comparison: Comparison = await compareLedgers(base.recorder.entries, cand.recorder.entries, { policy: this.policy, scenario: scenario.name, sink: this.sink });
    const entry: ParityComparison = { ...comparison, status: 'compared', check_id: checkId };
    this.comparisons.push(entry);
    await this.publish(ctx);
    if (base.aborted) throw new Error(`the baseline could not run the scenario (${base.aborted}), so it proves nothing; ${this.describe(entry)}`);
    // A baseline that fails is no reference: equal 500s on both sides must not read as parity.
    const baseErrors = base.recorder.serverErrors;
    if (baseErrors.length > 0) throw new Error(`the baseline answered ${baseErrors.length} request(s) with a server error or not at all (first: ${baseErrors[0]}), so the comparison proves nothing; ${this.describe(entry)}`);
    return this.conclude(ctx, entry);
  }

  describe(c: ParityComparison): string {
    return `${c.events_compared} observations compared, ${c.critical} critical, ${c.warning} warning diffs`;
  }

  async replayTopics(ctx: CheckContext, checkId: string): Promise<string> {
    const pairs = topicPairs(this.baseline(), ctx.target);
    if (pairs.length === 0) {
      const reason = this.readOnly(ctx)
        ? 'missing_input:parity_topics (read-only parity compares existing topics: list them in the targets\u2019 parity_topics)'
        : 'no parity_topics configured; the seeded scenarios cover parity';
      throw new CheckSkip(reason);
    }
    const lines: string[] = [];
    let critical = 0;
    for (const pair of pairs) {
      const normalize = () => new Normalizer(this.policy.file.normalize);
      const baseSide = this.side(ctx, checkId, 'baseline');
      const candSide = this.side(ctx, checkId, 'candidate');
      const name = topicName(pair.baseline);
      const comparison = await compareLedgers(pollTopicLedger(baseSide, pair.baseline, normalize()), pollTopicLedger(candSide, pair.candidate, normalize()), {
        policy: this.policy,
        scenario: 'existing-topics',
        topic: name,
        sink: this.sink,
      });
      const entry: ParityComparison = { ...comparison, status: 'compared', check_id: checkId, ...(topicName(pair.candidate) !== name ? { candidate_topic: topicName(pair.candidate) } : {}) };
      this.comparisons.push(entry);
      critical += entry.critical;
      lines.push(`${name}: ${this.describe(entry)}`);
      ctx.log(`${name}: ${this.describe(entry)}`);
    }
    await this.publish(ctx);
    for (const diff of this.sink.stored.filter((d) => d.scenario === 'existing-topics').slice(0, DIFFS_LOGGED)) ctx.log(`${diff.severity}: ${diff.message}`);
    if (critical > 0 && this.settings.blockOnCritical) {
      const first = this.sink.stored.find((d) => d.scenario === 'existing-topics' && d.severity === 'critical');
      throw new CheckFailure(`${pairs.length} topics replayed from seq 0: ${critical} critical diffs; first: ${first?.message ?? '(not stored)'}`);
    }
    return lines.join('; ');
  }

  async gate(ctx: CheckContext): Promise<string> {
    this.baseline();
    const report = await this.publish(ctx);
    const { gate, totals } = report;
    ctx.log(`parity gate: ${gate.decision}: ${gate.reason}`);
    ctx.log(`totals: ${JSON.stringify(totals)}`);
    if (gate.decision === 'block') throw new CheckFailure(`parity blocks: ${gate.reason}`);
    return `parity allows: ${gate.reason}`;
  }
}

function skipped(scenario: string, checkId: string, reason: string): ParityComparison {
  return { scenario, check_id: checkId, status: 'skipped', reason, events_compared: 0, baseline_events: 0, candidate_events: 0, critical: 0, warning: 0, ignored: 0 };
}

/** The parity lane's checks: one per scenario, the read-only topic replay, and the gate. */
export function parityLane(inputs: LaneInputs): CheckDefinition[] {
  const options = inputs as Inputs;
  const state = new ParityRun(options);
  const targets = inputs.baseline ? { baseline: inputs.baseline, candidate: inputs.candidate } : undefined;
  const hasTopics = Boolean(inputs.baseline?.parity_topics?.length || inputs.candidate.parity_topics?.length);
  const definitions: CheckDefinition[] = PARITY_SCENARIOS.map((scenario) => {
    const id = `parity.scenario.${scenario.name}`;
    return {
      id,
      lane: 'parity',
      description: `parity scenario ${scenario.name}: ${scenario.description}`,
      needsWrites: true,
      optional: Boolean(options.parityReadOnly) || (targets ? (scenario.optional?.(targets) ?? false) : false),
      timeoutMs: SCENARIO_TIMEOUT_MS,
      run: (ctx) => state.runScenario(ctx, id, scenario),
    };
  });
  definitions.push({
    id: 'parity.replay.existing-topics',
    lane: 'parity',
    description: 'read-only parity: the topics in parity_topics replayed from seq 0 on both targets and compared as they stream',
    optional: !hasTopics,
    timeoutMs: REPLAY_TIMEOUT_MS,
    run: (ctx) => state.replayTopics(ctx, 'parity.replay.existing-topics'),
  });
  definitions.push({
    id: 'parity.gate.decision',
    lane: 'parity',
    description: 'the parity gate: no critical diff (--block-on-critical) and at most --max-warnings warning diffs',
    phase: 'last',
    run: (ctx) => state.gate(ctx),
  });
  return definitions;
}
