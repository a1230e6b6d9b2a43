/**
 * runGate(options) → report (SPEC §5): resolves which lanes are required, runs their
 * checks against the candidate under per-check and whole-run deadlines, decides
 * GO/NO-GO and writes the report folder.
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { contractPaths, loadContractMigrations, PACKAGE_ROOT, sha256Hex } from '../contracts/contract-files.ts';
import type { Check, Lane, Report, Target } from '../contracts/generated/report.ts';
import { PACKAGE_VERSION } from '../reference-server/package-version.ts';
import { type CheckDefinition, type CheckOutcome, type RunState, runChecks } from './check-runner.ts';
import { hasInput, type LaneInputs, type TargetIdentity } from './lanes/lane.ts';
import { count5xx } from './lanes/observability-lane.ts';
import { ALL_LANES, LANES, laneDefinition } from './lanes/registry.ts';
import { toPrivateKey } from './report/manifest.ts';
import { countTotals, decideGate, deriveLaneStatus, evidenceLine, exitCodeOf, formatLanesNotRun, type ParitySummary, prepareReportFolder, type WriteReportOptions, withSelection, writeReportFolder } from './report/index.ts';
import { type TargetSpec, targetSecrets } from './target.ts';
import { type HttpResponse, TargetHttp, TargetRequestError } from './target-http.ts';

export { ALL_LANES };
export type { LaneInputs, TargetIdentity };

export interface RunGateOptions {
  candidate: TargetSpec;
  baseline?: TargetSpec;
  /** Narrows the lanes that run (and are required). */
  lanes?: Lane[];
  /**
   * Lanes that must run, on top of the default required ones (`--require-lanes`, config
   * `required_lanes`): such a lane that cannot run (missing input) makes the run NO-GO.
   */
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
  /** 0 GO, 1 NO-GO, 3 not evaluated (see exitCodeOf). */
  exitCode: 0 | 1 | 3;
}

/** A setting of the run that cannot work (CLI exit 2): found before any lane runs where possible. */
export class GateConfigError extends Error {
  override readonly name = 'GateConfigError';
}

/** Every check this harness version has, lane by lane (independent of any target). */
async function allCheckDefinitions(): Promise<{ lane: Lane; check: CheckDefinition }[]> {
  const all: { lane: Lane; check: CheckDefinition }[] = [];
  for (const lane of LANES) {
    for (const check of await lane.checks({ candidate: { name: 'candidate', base_url: 'http://candidate.invalid' }, artifacts: new Map() })) all.push({ lane: lane.id, check });
  }
  return all;
}

/** `validate --list-checks`: every check id with required/optional by default. */
export async function listChecks(): Promise<string[]> {
  return (await allCheckDefinitions()).map(({ lane, check }) => `${check.id}\t${check.optional || !laneDefinition(lane).requiredByDefault ? 'optional' : 'required'}${check.needsWrites ? ' (writes)' : ''}\t${check.description}`);
}

/** `--checks` pattern: an exact check id, or a prefix ending in `*`. */
export function checkMatches(pattern: string, checkId: string): boolean {
  return pattern.endsWith('*') ? checkId.startsWith(pattern.slice(0, -1)) : checkId === pattern;
}

/** A `--checks` pattern that matches no check this harness has is a typo, never an empty (GO) run. */
async function assertChecksExist(patterns: readonly string[], setting: string): Promise<void> {
  if (patterns.length === 0) throw new GateConfigError(`${setting} is empty; give check ids or prefixes ending in * (see --list-checks)`);
  const ids = (await allCheckDefinitions()).map(({ check }) => check.id);
  const unknown = patterns.filter((pattern) => !ids.some((id) => checkMatches(pattern, id)));
  if (unknown.length > 0) {
    throw new GateConfigError(`${setting}: ${unknown.map((p) => `'${p}'`).join(', ')} ${unknown.length === 1 ? 'matches' : 'match'} no check id (see validate --list-checks)`);
  }
}

/** The Ed25519 key that signs the manifest, read before any lane runs: a bad key is a setting error, not a crash after the run. */
function readSignKey(path: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GateConfigError(`--sign-key ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return toPrivateKey(pem);
  } catch (error) {
    throw new GateConfigError(`--sign-key ${path}: ${(error as Error).message.split('\n')[0]} (an Ed25519 private key in PEM is expected)`);
  }
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

/**
 * Which lanes run, and which of them are required, by one rule for every lane
 * (harness/lanes/lane.ts): a lane is required by default, or because the operator named
 * it (`--lanes`, `--require-lanes`, `required_lanes`), or because its inputs were given;
 * a lane whose inputs are absent does not run, with the first missing input as reason.
 */
export function planLanes(options: RunGateOptions): { lane: Lane; required: boolean; missingInput?: string }[] {
  const named = new Set<Lane>([...(options.lanes ?? []), ...(options.requiredLanes ?? [])]);
  // A required lane is in the plan even when --lanes leaves it out: it must run or block.
  const selected = options.lanes ? LANES.filter((lane) => named.has(lane.id)) : LANES;
  return selected.map((lane) => {
    const missing = lane.needs.find((input) => !hasInput(input, options));
    const required = lane.requiredByDefault || named.has(lane.id) || (lane.needs.length > 0 && missing === undefined);
    return { lane: lane.id, required, ...(missing ? { missingInput: missing } : {}) };
  });
}


function identityOf(health: HttpResponse | undefined): TargetIdentity {
  const json = health?.status === 200 ? health.json : undefined;
  const str = (value: unknown) => (typeof value === 'string' ? value : null);
  return { build_sha: str(json?.build_sha), service: str(json?.service), authority_write_mode: str(json?.authority_write_mode), payment_backend: str(json?.payment_backend) };
}

/** What one preflight request got: the answer, or why there was none (cause kept, e.g. ECONNREFUSED). */
type PreflightAnswer = { response: HttpResponse } | { error: string; connectFailed: boolean };

/**
 * A preflight GET that never eats the run: at most 5 s and at most a quarter of what the
 * run has left (a target that hangs here leaves the checks time to name the cause).
 */
async function boundedGet(target: TargetSpec, path: string, runDeadline: number, runSignal: AbortSignal): Promise<PreflightAnswer> {
  const remaining = runDeadline - Date.now();
  if (remaining <= 0) return { error: 'the run deadline passed', connectFailed: false };
  try {
    return { response: await new TargetHttp(target, [], 'preflight', runSignal, () => {}, Math.min(5000, remaining / 4)).request({ method: 'GET', path }) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), connectFailed: error instanceof TargetRequestError && error.details.connectFailed };
  }
}

const answered = (answer: PreflightAnswer | undefined) => (answer && 'response' in answer ? answer.response : undefined);

/** Why a target could not be evaluated: report.json `evaluation_error`, CLI exit 3. */
export type EvaluationError = NonNullable<Report['evaluation_error']>;

/** The flags that point the run at a target and give it credentials, per role. */
function targetFlags(role: 'candidate' | 'baseline') {
  return role === 'candidate'
    ? { url: '--target', token: '--internal-token (or RUNTIME_GATE_INTERNAL_TOKEN)' }
    : { url: '--baseline', token: '--baseline-internal-token (or RUNTIME_GATE_BASELINE_INTERNAL_TOKEN)' };
}

/**
 * Tells a broken setup from a broken target: the target cannot be reached at all, or it
 * refuses the credentials the run was given on the identity request. Either way nothing
 * the lanes would say is about the target's behaviour.
 */
function setupProblem(target: TargetSpec, role: 'candidate' | 'baseline', answers: PreflightAnswer[], identity: PreflightAnswer): EvaluationError | undefined {
  const flags = targetFlags(role);
  // Unreachable: no request could even connect (refused, no route, no such host, a refused
  // certificate). A target that accepts connections and then answers too slowly, cuts them or
  // answers garbage is evaluated: its checks fail and name what it did.
  if (answers.every((answer) => 'error' in answer && answer.connectFailed)) {
    const cause = 'error' in answers[0]! ? answers[0].error : '';
    return { cause: 'unreachable', target: target.name, message: `cannot reach ${role} ${target.base_url}: ${cause}; check ${flags.url}` };
  }
  const status = answered(identity)?.status;
  if (status === 401 || status === 403) {
    const given = Boolean(target.internal_token);
    return {
      cause: 'credentials_refused',
      target: target.name,
      message: given
        ? `${role} ${target.base_url} refused the internal token (HTTP ${status} on GET ${IDENTITY_PATH}); check ${flags.token}`
        : `${role} ${target.base_url} needs an internal token (HTTP ${status} on GET ${IDENTITY_PATH}); give ${flags.token}`,
    };
  }
  return undefined;
}

const IDENTITY_PATH = '/internal/v1/health';

interface Preflight {
  identity: TargetIdentity;
  problem?: EvaluationError;
}

/**
 * Who the target is and whether it takes writes, before any lane runs, and whether it can
 * be evaluated at all. Bounded by the run's deadline like everything else: a target that
 * never answers cannot hold the run here (each request gets at most 5 s and never more
 * than the run has left).
 */
async function preflight(target: TargetSpec, run: RunState, options: RunGateOptions, runDeadline: number, runSignal: AbortSignal): Promise<Preflight> {
  const request = (path: string) => boundedGet(target, path, runDeadline, runSignal);
  const waitUntil = Math.min(runDeadline, Date.now() + (options.waitReadySeconds ?? 0) * 1000);
  let answers: PreflightAnswer[];
  for (;;) {
    // In parallel: a slow target costs one request's time here, not four.
    answers = await Promise.all([request('/readyz'), request('/healthz'), request(IDENTITY_PATH), request('/metrics')]);
    const [ready, healthz] = answers.map(answered);
    const shaOk = !target.expected_build_sha || healthz?.json?.build_sha === target.expected_build_sha;
    if ((ready?.status === 200 && shaOk) || Date.now() >= waitUntil) break;
    options.onProgress?.(`waiting for ${target.base_url}/readyz${target.expected_build_sha ? ` and build_sha ${target.expected_build_sha}` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const [readyAnswer, , identityAnswer, metricsAnswer] = answers;
  const identity = identityOf(answered(identityAnswer));
  run.writeMode = identity.authority_write_mode ?? undefined;
  run.paymentBackend = identity.payment_backend ?? undefined;
  run.noWrites = options.noWrites ?? false;
  // The operator decides: writes are expected unless --no-writes (a target that refuses them fails its write checks).
  run.allowWrites = !options.noWrites && (run.writeMode === undefined || run.writeMode === 'rust_active');
  // The 5xx counter before any lane ran, here so every shard and --checks selection has it.
  const metrics = answered(metricsAnswer);
  if (metrics?.status === 200) run.metrics5xxBefore = count5xx(metrics.text);
  const problem = setupProblem(target, 'candidate', answers, identityAnswer!);
  if (problem) return { identity, problem };
  const ready = answered(readyAnswer);
  if (options.waitReadySeconds && ready?.status !== 200) {
    const got = ready ? `/readyz answered ${ready.status}` : `/readyz: ${'error' in readyAnswer! ? readyAnswer.error : 'no answer'}`;
    return { identity, problem: { cause: 'not_ready', target: target.name, message: `${target.base_url} was not ready within --wait-ready ${options.waitReadySeconds} s (${got}); raise --wait-ready or fix the deployment` } };
  }
  return { identity };
}

/** The baseline's identity, and whether it can be evaluated (reachable, credentials accepted). */
async function preflightBaseline(baseline: TargetSpec, runDeadline: number, runSignal: AbortSignal): Promise<Preflight> {
  const [healthz, identityAnswer] = await Promise.all([boundedGet(baseline, '/healthz', runDeadline, runSignal), boundedGet(baseline, IDENTITY_PATH, runDeadline, runSignal)]);
  const identity = identityOf(answered(identityAnswer));
  const problem = setupProblem(baseline, 'baseline', [healthz, identityAnswer], identityAnswer);
  return problem ? { identity, problem } : { identity };
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
  if (options.checks) await assertChecksExist(options.checks, '--checks');
  if (options.optionalChecks?.length) await assertChecksExist(options.optionalChecks, 'optional_checks');
  const signKey = options.signKey === undefined ? undefined : readSignKey(options.signKey);
  // Before any lane runs: a run whose report cannot be written is refused, not wasted.
  prepareReportFolder(dir);
  const run: RunState = { exchanges: [], allowWrites: false, allowPayments: options.allowPayments ?? false, latencies: {} };
  const secrets = [...targetSecrets(options.candidate), ...(options.baseline ? targetSecrets(options.baseline) : [])];
  const redact = (text: string) => secrets.reduce((acc, secret) => acc.split(secret).join('[redacted]'), text);
  // The whole run, preflight and --wait-ready included, ends by this deadline.
  const runDeadline = Date.now() + (options.waitReadySeconds ?? 0) * 1000 + (options.runTimeoutMs ?? 10 * 60_000);
  const runAborter = new AbortController();
  setMaxListeners(64, runAborter.signal);
  const runTimer = setTimeout(() => runAborter.abort(), runDeadline - Date.now());
  runTimer.unref();
  try {
    return await runGateUntil(options, { startedAt, mode, runId, probeId, dir, run, redact, runDeadline, runSignal: runAborter.signal, ...(signKey ? { signKey } : {}) });
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
  signKey?: KeyObject;
}

async function runGateUntil(options: RunGateOptions, context: RunContext): Promise<RunGateResult> {
  const { run, runDeadline, runSignal } = context;
  const candidate = await preflight(options.candidate, run, options, runDeadline, runSignal);
  const plan = planLanes(options);
  // The baseline matters only to the parity lane: a run without it never fails on the baseline.
  const usesBaseline = plan.some((lane) => lane.lane === 'parity' && !lane.missingInput);
  const baseline = options.baseline && usesBaseline ? await preflightBaseline(options.baseline, runDeadline, runSignal) : undefined;
  const identity = candidate.identity;
  const baselineIdentity = baseline?.identity;
  const problem = candidate.problem ?? baseline?.problem;
  if (problem) return writeNotEvaluated(options, context, plan, problem, identity, baselineIdentity);
  options.onProgress?.(`target ${options.candidate.base_url}: build_sha=${identity.build_sha ?? '?'} authority_write_mode=${run.writeMode ?? '?'}${options.noWrites ? ' (write checks skipped: --no-writes)' : ''}`);

  const artifacts = new Map<string, unknown>();
  const inputs: LaneInputs = { candidate: options.candidate, artifacts, identities: { candidate: identity, ...(baselineIdentity ? { baseline: baselineIdentity } : {}) }, ...(options.baseline ? { baseline: options.baseline } : {}), ...(options.envFiles ? { envFiles: options.envFiles } : {}) };
  if (options.maxWarnings !== undefined) inputs.maxWarnings = options.maxWarnings;
  if (options.blockOnCritical !== undefined) inputs.blockOnCritical = options.blockOnCritical;
  if (options.parityReadOnly !== undefined) inputs.parityReadOnly = options.parityReadOnly;
  if (options.paritySeed !== undefined) inputs.paritySeed = options.paritySeed;
  if (options.shard) inputs.shard = options.shard;
  const definitions: CheckDefinition[] = [];
  const placeholders: Check[] = [];
  const lanesNotRun: LaneNotRun[] = [];
  for (const { lane, required, missingInput } of plan) {
    if (missingInput) {
      // A required lane that cannot run is reported, never silently passed.
      lanesNotRun.push({ lane, required, reason: `missing_input:${missingInput}` });
      placeholders.push({
        check_id: `${lane}.lane.inputs`, lane, required: required ? 'required' : 'optional', status: 'skipped', duration_ms: 0,
        description: `the ${lane} lane`, log_path: '', target: options.candidate.name,
        detail: `missing_input:${missingInput}`,
      });
      continue;
    }
    for (const definition of await laneDefinition(lane).checks(inputs)) definitions.push(required ? definition : { ...definition, optional: true });
  }
  const shard = options.shard ?? { index: 1, count: 1 };
  const selectedChecks = options.checks ? definitions.filter((d) => options.checks!.some((pattern) => checkMatches(pattern, d.id))) : definitions;
  if (selectedChecks.length === 0 && options.checks) {
    const notRun = lanesNotRun.length ? `; lanes not run: ${formatLanesNotRun(lanesNotRun)}` : '';
    throw new GateConfigError(`--checks ${options.checks.join(',')} selects no check of the lanes that can run${notRun}`);
  }
  const sharded = selectedChecks.filter((_, i) => i % shard.count === shard.index - 1);
  const outcomes: CheckOutcome[] = await runChecks(sharded, {
    target: options.candidate,
    run,
    probeId: context.probeId,
    ...(options.checkTimeoutMs ? { defaultTimeoutMs: options.checkTimeoutMs } : {}),
    runDeadline,
    optionalChecks: new Set(definitions.filter((d) => (options.optionalChecks ?? []).some((pattern) => checkMatches(pattern, d.id))).map((d) => d.id)),
    redact: context.redact,
    ...(options.onCheckFinished ? { onCheckFinished: options.onCheckFinished } : {}),
  });
  for (const placeholder of placeholders) options.onCheckFinished?.(placeholder);
  const checks = [...outcomes.map((o) => o.check), ...(shard.index === 1 ? placeholders : [])];
  const logs = new Map(outcomes.map((o) => [o.check.check_id, o.log]));
  // The parity lane leaves its summary here (a critical diff always blocks).
  const parity = artifacts.get('parity-summary') as ParitySummary | undefined;
  // A selection is part of what the verdict covers: the decision line says so.
  const decision = withSelection(decideGate(checks, context.mode, parity, lanesNotRun, { shard }), options.checks);
  const report: Report = {
    ...reportHeader(options, context, identity, baselineIdentity),
    decision: decision.decision,
    decision_reason: decision.reason,
    lanes: plan.map(({ lane, required }) => {
      const laneChecks = checks.filter((c) => c.lane === lane);
      return { lane, required, status: deriveLaneStatus(laneChecks), ...(laneChecks.length === 0 ? { detail: options.checks ? `no check selected by --checks ${options.checks.join(',')}` : 'no check in this shard' } : {}) };
    }),
    ...(lanesNotRun.length ? { lanes_not_run: lanesNotRun } : {}),
    checks,
    totals: countTotals(checks),
    ...(parity ? { parity } : {}),
    finished_at: new Date().toISOString(),
  };
  const parityReport = artifacts.get('parity-report.json');
  return writeRun(options, context, report, { logs, samples: run.latencies, ...(parityReport ? { parityReport } : {}) });
}

type LaneNotRun = NonNullable<Report['lanes_not_run']>[number];

/** Everything of report.json that does not depend on the checks. */
function reportHeader(options: RunGateOptions, context: RunContext, identity: TargetIdentity, baselineIdentity: TargetIdentity | undefined) {
  const target: Target = {
    role: 'candidate', name: options.candidate.name, base_url: options.candidate.base_url, build_sha: identity.build_sha,
    expected_build_sha: options.candidate.expected_build_sha ?? null, service: identity.service, authority_write_mode: identity.authority_write_mode,
    profile: options.candidate.profile ?? 'live',
  };
  return {
    schema: 'runtime-gate.report.v1' as const,
    run_id: context.runId,
    mode: context.mode,
    shard: options.shard ?? { index: 1, count: 1 },
    harness_version: PACKAGE_VERSION,
    contract_digests: contractDigests(),
    targets: options.baseline && baselineIdentity ? [target, baselineTarget(options.baseline, baselineIdentity)] : [target],
    ...(options.checks?.length ? { check_selection: options.checks as [string, ...string[]] } : {}),
    started_at: context.startedAt.toISOString(),
  };
}

/** A run that could not evaluate a target: no lane ran, the report says why, exit 3. */
async function writeNotEvaluated(options: RunGateOptions, context: RunContext, plan: ReturnType<typeof planLanes>, problem: EvaluationError, identity: TargetIdentity, baselineIdentity: TargetIdentity | undefined): Promise<RunGateResult> {
  const reason = `not_evaluated:${problem.cause}`;
  const report: Report = {
    ...reportHeader(options, context, identity, baselineIdentity),
    decision: 'NOT-EVALUATED',
    decision_reason: problem.message,
    evaluation_error: problem,
    lanes: plan.map(({ lane, required }) => ({ lane, required, status: 'skipped' as const, detail: reason })),
    lanes_not_run: plan.map(({ lane, required }) => ({ lane, required, reason })),
    checks: [],
    totals: countTotals([]),
    finished_at: new Date().toISOString(),
  };
  return writeRun(options, context, report, { logs: new Map(), samples: {} });
}

async function writeRun(options: RunGateOptions, context: RunContext, report: Report, files: Omit<WriteReportOptions, 'signKey'>): Promise<RunGateResult> {
  const written = await writeReportFolder(context.dir, report, { ...files, ...(context.signKey ? { signKey: context.signKey } : {}) });
  return {
    report,
    dir: written.dir,
    manifestSha256: written.manifestSha256,
    evidence: evidenceLine(written),
    exitCode: exitCodeOf(report.decision, context.mode),
  };
}

