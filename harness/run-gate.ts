/**
 * runGate(options) → report (SPEC §5): resolves which lanes are required, runs their
 * checks against the candidate under per-check and whole-run deadlines, decides
 * GO/NO-GO and writes the report folder.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { contractPaths, loadContractMigrations, PACKAGE_ROOT, sha256Hex } from '../contracts/contract-files.ts';
import type { Check, Lane, Report, Target } from '../contracts/generated/report.ts';
import { PACKAGE_VERSION } from '../reference-server/package-version.ts';
import { type CheckDefinition, type CheckOutcome, type RunState, runChecks } from './check-runner.ts';
import { contractLane } from './lanes/contract-lane.ts';
import { creditLane } from './lanes/credit-lane.ts';
import { driftLane } from './lanes/drift-lane.ts';
import { envLane } from './lanes/env-lane.ts';
import { healthLane } from './lanes/health-lane.ts';
import { khalaLane } from './lanes/khala-lane.ts';
import { count5xx, observabilityLane } from './lanes/observability-lane.ts';
import { parityLane } from './lanes/parity-lane.ts';
import { rolesLane } from './lanes/roles-lane.ts';
import { assertReportFolderFree, countTotals, decideGate, deriveLaneStatus, evidenceLine, type ParitySummary, writeReportFolder } from './report/index.ts';
import { type TargetSpec, targetSecrets } from './target.ts';
import { TargetHttp } from './target-http.ts';

export const ALL_LANES: Lane[] = ['health', 'contract', 'khala', 'parity', 'credit', 'drift', 'roles', 'env', 'observability'];
/** What a lane may need besides the candidate's HTTP surface. */
export interface LaneInputs {
  candidate: TargetSpec;
  baseline?: TargetSpec;
  envFiles?: string[];
  maxWarnings?: number;
  /** Parity: whether one critical diff blocks (default true). */
  blockOnCritical?: boolean;
  /** Parity: compare the targets' existing parity_topics only, never write (default false). */
  parityReadOnly?: boolean;
  /** Parity: seed of the scenarios (default 1). */
  paritySeed?: number;
  /** The run's shard (parity: comparing nothing blocks only in an unsharded run). */
  shard?: { index: number; count: number };
  /** What the targets' /internal/v1/health said in the preflight (read once per run). */
  identities?: { candidate: TargetIdentity; baseline?: TargetIdentity };
  /** Where lanes may write extra artifacts (e.g. parity-report.json); the report folder. */
  artifacts: Map<string, unknown>;
}

/** Lanes this harness version implements, each a list of checks. */
const LANE_CHECKS: Record<Lane, (inputs: LaneInputs) => CheckDefinition[] | Promise<CheckDefinition[]>> = {
  health: healthLane,
  contract: contractLane,
  khala: khalaLane,
  credit: creditLane,
  observability: observabilityLane,
  parity: parityLane,
  drift: (inputs) => driftLane(inputs),
  roles: () => rolesLane(),
  env: (inputs) => envLane(inputs),
};
/** SPEC §5: required by default (they need only a URL and credentials). */
const DEFAULT_REQUIRED: Lane[] = ['health', 'contract', 'khala', 'credit', 'observability'];

export interface RunGateOptions {
  candidate: TargetSpec;
  baseline?: TargetSpec;
  /** Narrows the lanes that run (and are required). */
  lanes?: Lane[];
  /** Replaces the default required lanes (config file `required_lanes`). */
  requiredLanes?: Lane[];
  /** Parity: warning diffs allowed before parity blocks (default 0). */
  maxWarnings?: number;
  /** Parity: whether one critical diff blocks (default true). */
  blockOnCritical?: boolean;
  /** Parity: compare existing topics (the targets' parity_topics) only, never write (default false). */
  parityReadOnly?: boolean;
  /** Parity: seed of the scenarios (default 1). */
  paritySeed?: number;
  optionalChecks?: string[];
  /** Runs only these check ids (a trailing `*` matches a prefix), e.g. to re-run one failing check. */
  checks?: string[];
  mode?: 'gate' | 'baseline';
  /** The report folder itself; default reports/<YYYYMMDDTHHMMSSZ>/. */
  outDir?: string;
  noWrites?: boolean;
  allowPayments?: boolean;
  envFiles?: string[];
  shard?: { index: number; count: number };
  signKey?: string;
  checkTimeoutMs?: number;
  runTimeoutMs?: number;
  waitReadySeconds?: number;
  onCheckFinished?: (check: Check) => void;
  onProgress?: (line: string) => void;
}

export interface RunGateResult {
  report: Report;
  dir: string;
  manifestSha256: string;
  evidence: string;
  exitCode: 0 | 1;
}

/** `validate --list-checks`: every check id with required/optional by default. */
export async function listChecks(): Promise<string[]> {
  const lines: string[] = [];
  for (const lane of ALL_LANES) {
    for (const check of await LANE_CHECKS[lane]({ candidate: { name: 'candidate', base_url: 'http://candidate.invalid' }, artifacts: new Map() })) lines.push(`${check.id}\t${check.optional || !DEFAULT_REQUIRED.includes(lane) ? 'optional' : 'required'}${check.needsWrites ? ' (writes)' : ''}\t${check.description}`);
  }
  return lines;
}

export function runTimestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function contractDigests(): Record<string, string> {
  const { openapi, asyncapi, khalaOrdering, runtimeEnvSchema, dbRoles, dbRolesSchema, reportSchema, parityPolicy, parityPolicySchema, parityReportSchema, migrationsDir } = contractPaths;
  const files = [openapi, asyncapi, khalaOrdering, runtimeEnvSchema, dbRoles, dbRolesSchema, reportSchema, parityPolicy, parityPolicySchema, parityReportSchema];
  const digests = Object.fromEntries(files.map((file) => [relative(PACKAGE_ROOT, file), sha256Hex(readFileSync(file))]));
  // Migration checksums as the migration runner computes them (sha256 of the raw file).
  for (const migration of loadContractMigrations()) digests[relative(PACKAGE_ROOT, join(migrationsDir, `${migration.version}.sql`))] = migration.checksum;
  return digests;
}

/** Which lanes must run, and which of them are required, with the reason a lane has no checks. */
export function planLanes(options: RunGateOptions): { lane: Lane; required: boolean; missingInput?: string }[] {
  const required = new Set<Lane>(options.requiredLanes ?? DEFAULT_REQUIRED);
  if (!options.requiredLanes) {
    if (options.candidate.db_url) {
      required.add('drift');
      required.add('roles');
    }
    if (options.envFiles?.length) required.add('env');
    if (options.baseline) required.add('parity');
  }
  const selected = options.lanes ?? ALL_LANES;
  return selected.map((lane) => {
    const isRequired = options.lanes ? true : required.has(lane);
    const plan: { lane: Lane; required: boolean; missingInput?: string } = { lane, required: isRequired };
    if (lane === 'parity' && !options.baseline) plan.missingInput = 'baseline';
    if ((lane === 'drift' || lane === 'roles') && !options.candidate.db_url) plan.missingInput = 'db_url';
    if (lane === 'env' && !options.envFiles?.length) plan.missingInput = 'env_file';
    return plan;
  });
}

/** What a target's /internal/v1/health says about it (null where it did not answer). */
export interface TargetIdentity {
  build_sha: string | null;
  service: string | null;
  authority_write_mode: string | null;
  payment_backend: string | null;
}

function identityOf(health: { status: number; json: any } | undefined): TargetIdentity {
  const json = health?.status === 200 ? health.json : undefined;
  const str = (value: unknown) => (typeof value === 'string' ? value : null);
  return { build_sha: str(json?.build_sha), service: str(json?.service), authority_write_mode: str(json?.authority_write_mode), payment_backend: str(json?.payment_backend) };
}

/**
 * A preflight GET that never eats the run: at most 5 s and at most a quarter of what the
 * run has left (a target that hangs here leaves the checks time to name the cause);
 * undefined when unanswered.
 */
function boundedGet(target: TargetSpec, path: string, runDeadline: number, runSignal: AbortSignal) {
  const remaining = runDeadline - Date.now();
  if (remaining <= 0) return Promise.resolve(undefined);
  return new TargetHttp(target, [], 'preflight', runSignal, () => {}, Math.min(5000, remaining / 4)).request({ method: 'GET', path }).catch(() => undefined);
}

/**
 * Who the target is and whether it takes writes, before any lane runs. Bounded by the
 * run's deadline like everything else: a target that never answers cannot hold the run
 * here (each request gets at most 5 s and never more than the run has left).
 */
async function preflight(target: TargetSpec, run: RunState, options: RunGateOptions, runDeadline: number, runSignal: AbortSignal): Promise<TargetIdentity> {
  const request = (path: string) => boundedGet(target, path, runDeadline, runSignal);
  const waitUntil = Math.min(runDeadline, Date.now() + (options.waitReadySeconds ?? 0) * 1000);
  let health: Awaited<ReturnType<typeof request>>;
  let metrics: Awaited<ReturnType<typeof request>>;
  for (;;) {
    // In parallel: a slow target costs one request's time here, not four.
    const [ready, healthz, internal, scraped] = await Promise.all([request('/readyz'), request('/healthz'), request('/internal/v1/health'), request('/metrics')]);
    health = internal;
    metrics = scraped;
    const shaOk = !target.expected_build_sha || healthz?.json?.build_sha === target.expected_build_sha;
    if ((ready?.status === 200 && shaOk) || Date.now() >= waitUntil) break;
    options.onProgress?.(`waiting for ${target.base_url}/readyz${target.expected_build_sha ? ` and build_sha ${target.expected_build_sha}` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const identity = identityOf(health);
  run.writeMode = identity.authority_write_mode ?? undefined;
  run.paymentBackend = identity.payment_backend ?? undefined;
  run.noWrites = options.noWrites ?? false;
  run.allowWrites = !options.noWrites && run.writeMode === 'rust_active';
  // The 5xx counter before any lane ran, here so every shard and --checks selection has it.
  if (metrics?.status === 200) run.metrics5xxBefore = count5xx(metrics.text);
  return identity;
}

function baselineTarget(baseline: TargetSpec, identity: TargetIdentity): Target {
  return {
    role: 'baseline', name: baseline.name, base_url: baseline.base_url, build_sha: identity.build_sha, expected_build_sha: baseline.expected_build_sha ?? null,
    service: identity.service, authority_write_mode: identity.authority_write_mode, profile: baseline.profile ?? 'live',
  };
}

export async function runGate(options: RunGateOptions): Promise<RunGateResult> {
  const startedAt = new Date();
  const mode = options.mode ?? 'gate';
  const runId = runTimestamp(startedAt);
  const probeId = `runtime-gate-probe-${runId.toLowerCase()}-${randomBytes(3).toString('hex')}`;
  const dir = options.outDir ?? join(PACKAGE_ROOT, 'reports', runId);
  // Before any lane runs: a run whose report cannot be written is refused, not wasted.
  assertReportFolderFree(dir);
  const run: RunState = { exchanges: [], allowWrites: false, allowPayments: options.allowPayments ?? false, latencies: {} };
  const secrets = [...targetSecrets(options.candidate), ...(options.baseline ? targetSecrets(options.baseline) : [])];
  const redact = (text: string) => secrets.reduce((acc, secret) => acc.split(secret).join('[redacted]'), text);
  // The whole run, preflight and --wait-ready included, ends by this deadline.
  const runDeadline = Date.now() + (options.waitReadySeconds ?? 0) * 1000 + (options.runTimeoutMs ?? 10 * 60_000);
  const runAborter = new AbortController();
  const runTimer = setTimeout(() => runAborter.abort(), runDeadline - Date.now());
  runTimer.unref();
  try {
    return await runGateUntil(options, { startedAt, mode, runId, probeId, dir, run, redact, runDeadline, runSignal: runAborter.signal });
  } finally {
    clearTimeout(runTimer);
  }
}

interface RunContext {
  startedAt: Date;
  mode: 'gate' | 'baseline';
  runId: string;
  probeId: string;
  dir: string;
  run: RunState;
  redact: (text: string) => string;
  runDeadline: number;
  runSignal: AbortSignal;
}

async function runGateUntil(options: RunGateOptions, { startedAt, mode, runId, probeId, dir, run, redact, runDeadline, runSignal }: RunContext): Promise<RunGateResult> {
  const identity = await preflight(options.candidate, run, options, runDeadline, runSignal);
  const baselineIdentity = options.baseline ? identityOf(await boundedGet(options.baseline, '/internal/v1/health', runDeadline, runSignal)) : undefined;
  options.onProgress?.(`target ${options.candidate.base_url}: build_sha=${identity.build_sha ?? '?'} authority_write_mode=${run.writeMode ?? '?'}${run.allowWrites ? '' : ' (write checks skipped)'}`);

  const plan = planLanes(options);
  const artifacts = new Map<string, unknown>();
  const inputs: LaneInputs = { candidate: options.candidate, artifacts, identities: { candidate: identity, ...(baselineIdentity ? { baseline: baselineIdentity } : {}) }, ...(options.baseline ? { baseline: options.baseline } : {}), ...(options.envFiles ? { envFiles: options.envFiles } : {}) };
  if (options.maxWarnings !== undefined) inputs.maxWarnings = options.maxWarnings;
  if (options.blockOnCritical !== undefined) inputs.blockOnCritical = options.blockOnCritical;
  if (options.parityReadOnly !== undefined) inputs.parityReadOnly = options.parityReadOnly;
  if (options.paritySeed !== undefined) inputs.paritySeed = options.paritySeed;
  if (options.shard) inputs.shard = options.shard;
  const definitions: CheckDefinition[] = [];
  const placeholders: Check[] = [];
  for (const { lane, required, missingInput } of plan) {
    if (missingInput) {
      // A required lane that cannot run is reported, never silently passed (SPEC §5).
      const id = `${lane}.lane.inputs`;
      placeholders.push({
        check_id: id, lane, required: required ? 'required' : 'optional', status: 'skipped', duration_ms: 0,
        description: `the ${lane} lane`, log_path: '', target: options.candidate.name,
        detail: `missing_input:${missingInput}`,
      });
      continue;
    }
    for (const definition of await LANE_CHECKS[lane](inputs)) definitions.push(required ? definition : { ...definition, optional: true });
  }
  const shard = options.shard ?? { index: 1, count: 1 };
  const selectedChecks = options.checks ? definitions.filter((d) => options.checks!.some((pattern) => (pattern.endsWith('*') ? d.id.startsWith(pattern.slice(0, -1)) : d.id === pattern))) : definitions;
  const sharded = selectedChecks.filter((_, i) => i % shard.count === shard.index - 1);
  const outcomes: CheckOutcome[] = await runChecks(sharded, {
    target: options.candidate,
    run,
    probeId,
    ...(options.checkTimeoutMs ? { defaultTimeoutMs: options.checkTimeoutMs } : {}),
    runDeadline,
    optionalChecks: new Set(options.optionalChecks ?? []),
    redact,
    ...(options.onCheckFinished ? { onCheckFinished: options.onCheckFinished } : {}),
  });
  for (const placeholder of placeholders) options.onCheckFinished?.(placeholder);
  const checks = [...outcomes.map((o) => o.check), ...(shard.index === 1 ? placeholders : [])];
  const logs = new Map(outcomes.map((o) => [o.check.check_id, o.log]));
  // The parity lane leaves its summary here (SPEC §5: a critical diff always blocks).
  const parity = artifacts.get('parity-summary') as ParitySummary | undefined;
  const decision = decideGate(checks, mode, parity);
  const target: Target = {
    role: 'candidate', name: options.candidate.name, base_url: options.candidate.base_url, build_sha: identity.build_sha,
    expected_build_sha: options.candidate.expected_build_sha ?? null, service: identity.service, authority_write_mode: identity.authority_write_mode,
    profile: options.candidate.profile ?? 'live',
  };
  const report: Report = {
    schema: 'runtime-gate.report.v1',
    run_id: runId,
    decision: decision.decision,
    decision_reason: decision.reason,
    mode,
    shard,
    harness_version: PACKAGE_VERSION,
    contract_digests: contractDigests(),
    targets: options.baseline && baselineIdentity ? [target, baselineTarget(options.baseline, baselineIdentity)] : [target],
    lanes: plan.map(({ lane, required }) => {
      const laneChecks = checks.filter((c) => c.lane === lane);
      return { lane, required, status: deriveLaneStatus(laneChecks) };
    }),
    checks,
    totals: countTotals(checks),
    ...(parity ? { parity } : {}),
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
  };
  const parityReport = artifacts.get('parity-report.json');
  const written = await writeReportFolder(dir, report, { logs, samples: run.latencies, ...(parityReport ? { parityReport } : {}), ...(options.signKey ? { signKey: readFileSync(options.signKey, 'utf8') } : {}) });
  return {
    report,
    dir: written.dir,
    manifestSha256: written.manifestSha256,
    evidence: evidenceLine(written),
    exitCode: decision.decision === 'GO' || mode === 'baseline' ? 0 : 1,
  };
}
