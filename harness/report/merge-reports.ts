/**
 * `runtime-gate report merge DIR... --out DIR` (SPEC §5): combines the folders of a sharded
 * run (`--shard i/n`, 1-based) into one report and one decision.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Check, Lane, Report, Target } from '../../contracts/generated/report.ts';
import { assertValidParityReport, mergeParityReports, ParityReportError, paritySummaryOf } from '../parity/parity-report.ts';
import { countTotals, decideGate, type ParitySummary } from './gate-decision.ts';
import { withSelection } from './gate-decision.ts';
import { deriveLaneStatus } from './lane-summary.ts';
import type { SignKey, VerifyKey } from './manifest.ts';
import { type ReportFolderResult, writeReportFolder } from './report-folder.ts';
import { assertValidReport, logPathFor, ReportValidationError, validateReportSchema } from './report-validation.ts';
import { verifyReportFolder } from './verify-report-folder.ts';

export interface MergeReportOptions {
  /** Ed25519 public key: every shard folder must then carry a good signature. */
  publicKey?: VerifyKey;
  /** Ed25519 private key: signs the merged folder's manifest. */
  signKey?: SignKey;
}

export interface MergeReportResult extends ReportFolderResult {
  report: Report;
}

interface Shard {
  dir: string;
  report: Report;
  logs: Map<string, string>;
  parityReport?: unknown;
}

/**
 * Thrown when shard folders cannot be merged; the message names the folders and why.
 * @see SPEC §5
 */
export class MergeError extends Error {
  constructor(message: string) {
    super(`report merge: ${message}`);
    this.name = 'MergeError';
  }
}

function readShard(dir: string, publicKey: VerifyKey | undefined): Shard {
  const verified = verifyReportFolder(dir, publicKey === undefined ? {} : { publicKey });
  if (!verified.ok) {
    throw new MergeError(`${dir} does not verify, refusing to merge it:\n${verified.problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  } catch (error) {
    throw new MergeError(`${dir}/report.json: ${(error as Error).message}`);
  }
  // Schema first: check ids then match their pattern, so a log path cannot leave the folder.
  const schemaProblems = validateReportSchema(parsed);
  if (schemaProblems.length > 0) {
    throw new MergeError(`${dir}/report.json does not match contracts/report.schema.json:\n${schemaProblems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const logs = new Map<string, string>();
  for (const check of (parsed as Report).checks) {
    const logFile = check.log_path === logPathFor(check.check_id) ? join(dir, check.log_path) : undefined;
    // A missing log file is left out, so the consistency check below names the check.
    if (logFile && existsSync(logFile)) logs.set(check.check_id, readFileSync(logFile, 'utf8'));
  }
  let report: Report;
  try {
    report = assertValidReport(parsed, logs);
  } catch (error) {
    if (error instanceof ReportValidationError) throw new MergeError(`${dir}/report.json: ${error.message}`);
    throw error;
  }
  const parityPath = join(dir, 'parity-report.json');
  const shard: Shard = { dir, report, logs };
  if (existsSync(parityPath)) shard.parityReport = JSON.parse(readFileSync(parityPath, 'utf8'));
  return shard;
}

function sameDigests(a: Report['contract_digests'], b: Report['contract_digests']): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((key) => a[key] !== b[key]);
}

function describeShard(shard: Shard): string {
  return `${shard.dir} (shard ${shard.report.shard.index}/${shard.report.shard.count})`;
}

/** Shards of one run must agree on what they ran against and with. */
function assertCompatible(shards: readonly Shard[]): void {
  const [first, ...rest] = shards;
  if (!first) throw new MergeError('no shard folders given');
  const count = first.report.shard.count;
  for (const shard of rest) {
    if (shard.report.shard.count !== count) {
      throw new MergeError(`shard counts differ: ${describeShard(first)} vs ${describeShard(shard)}`);
    }
  }
  const byIndex = new Map<number, Shard>();
  for (const shard of shards) {
    const other = byIndex.get(shard.report.shard.index);
    if (other) throw new MergeError(`shard ${shard.report.shard.index}/${count} given twice: ${other.dir} and ${shard.dir}`);
    byIndex.set(shard.report.shard.index, shard);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !byIndex.has(index));
  if (missing.length > 0) throw new MergeError(`missing shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count}`);
  for (const shard of rest) {
    if (shard.report.mode !== first.report.mode) {
      throw new MergeError(`modes differ: ${describeShard(first)} is ${first.report.mode}, ${describeShard(shard)} is ${shard.report.mode}`);
    }
    const differing = sameDigests(first.report.contract_digests, shard.report.contract_digests);
    if (differing.length > 0) {
      throw new MergeError(`contract digests differ between ${describeShard(first)} and ${describeShard(shard)}: ${differing.join(', ')}`);
    }
    // Shards of one run share its plan: the same lanes (and whether each is required) and the same --checks selection.
    const plan = (report: Report) => JSON.stringify((report.lanes ?? []).map((lane) => `${lane.lane}:${lane.required}`));
    if (plan(shard.report) !== plan(first.report)) {
      throw new MergeError(`lane plans differ between ${describeShard(first)} and ${describeShard(shard)}: they are not shards of one run (same lanes, inputs and flags)`);
    }
    if (JSON.stringify(shard.report.check_selection ?? null) !== JSON.stringify(first.report.check_selection ?? null)) {
      throw new MergeError(`check selections differ between ${describeShard(first)} (${first.report.check_selection?.join(',') ?? 'all checks'}) and ${describeShard(shard)} (${shard.report.check_selection?.join(',') ?? 'all checks'})`);
    }
    if (shard.report.harness_version !== first.report.harness_version) {
      throw new MergeError(
        `harness versions differ: ${describeShard(first)} ran ${first.report.harness_version}, ${describeShard(shard)} ran ${shard.report.harness_version}`,
      );
    }
  }
}

function mergeTargets(shards: readonly Shard[]): Target[] {
  const byKey = new Map<string, { target: Target; dir: string }>();
  for (const shard of shards) {
    for (const target of shard.report.targets) {
      const key = `${target.role}\u0000${target.name}`;
      const known = byKey.get(key);
      if (!known) {
        byKey.set(key, { target, dir: shard.dir });
      } else if (known.target.base_url !== target.base_url || (known.target.build_sha != null && target.build_sha != null && known.target.build_sha !== target.build_sha)) {
        // (An unknown build — a shard that could not read it — agrees with any.)
        throw new MergeError(
          `${target.role} target ${target.name} differs between shards: ${known.dir} saw ${known.target.base_url} build ${known.target.build_sha ?? 'unknown'}, ` +
            `${shard.dir} saw ${target.base_url} build ${target.build_sha ?? 'unknown'}`,
        );
      }
    }
  }
  return [...byKey.values()].map((entry) => entry.target);
}

function mergeLanes(shards: readonly Shard[], checks: readonly Check[]): Report['lanes'] {
  if (!shards.some((shard) => shard.report.lanes)) return undefined;
  const lanes = new Map<Lane, NonNullable<Report['lanes']>[number]>();
  for (const shard of shards) {
    for (const entry of shard.report.lanes ?? []) {
      const known = lanes.get(entry.lane);
      if (!known) {
        lanes.set(entry.lane, { ...entry });
        continue;
      }
      known.required ||= entry.required;
      const details = [known.detail, entry.detail].filter((d): d is string => !!d);
      if (details.length > 0) known.detail = [...new Set(details)].join('; ');
    }
  }
  // A lane split across shards gets its status back from all of its checks.
  for (const entry of lanes.values()) {
    const laneChecks = checks.filter((check) => check.lane === entry.lane);
    if (laneChecks.length > 0) entry.status = deriveLaneStatus(laneChecks);
  }
  return [...lanes.values()];
}

function mergeParity(shards: readonly Shard[]): { summary?: ParitySummary; parityReport?: unknown } {
  const withSummary = shards.filter((shard) => shard.report.parity);
  const withReport = shards.filter((shard) => shard.parityReport !== undefined);
  if (withSummary.length > 1 || withReport.length > 0) {
    // The parity lane has one check per scenario, so `--shard i/n` spreads it over shards:
    // their parity reports are merged and the parity gate decided again over the sums
    // (also from a single shard's report, which was decided for that shard alone).
    const bare = withSummary.filter((shard) => shard.parityReport === undefined);
    if (bare.length > 0) throw new MergeError(`parity ran in several shards but ${bare.map((shard) => shard.dir).join(', ')} has no parity-report.json to merge`);
    try {
      const merged = mergeParityReports(withReport.map((shard) => assertValidParityReport(shard.parityReport)));
      return { summary: paritySummaryOf(merged), parityReport: merged };
    } catch (error) {
      if (error instanceof ParityReportError) throw new MergeError(`parity reports of ${withReport.map((shard) => shard.dir).join(', ')}: ${error.message}`);
      throw error;
    }
  }
  return withSummary[0]?.report.parity ? { summary: withSummary[0].report.parity } : {};
}

function earliest(values: readonly string[]): string {
  return values.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
}

function latest(values: readonly string[]): string {
  return values.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}

/**
 * Merges shard folders into `outDir` (SPEC §5). Each shard must verify (with `publicKey`,
 * signatures too) and hold a valid report. Refuses, with a message naming the folders, on
 * missing or duplicate shards, differing shard counts, modes, contract digests, harness
 * versions or target builds, and a check_id present in two shards. Parity reports of several
 * shards are merged and their gate decided again over the summed diffs.
 * Checks are concatenated in shard order; totals, lanes and the decision are recomputed
 * with {@link decideGate}, so the merge is GO only if every shard is; each shard's logs are
 * copied. The result is written with `writeReportFolder`.
 */
export function mergeReportFolders(dirs: readonly string[], outDir: string, options: MergeReportOptions = {}): MergeReportResult {
  const shards = dirs.map((dir) => readShard(dir, options.publicKey));
  assertCompatible(shards);
  shards.sort((a, b) => a.report.shard.index - b.report.shard.index);

  const checks: Check[] = [];
  const logs = new Map<string, string>();
  const owner = new Map<string, string>();
  for (const shard of shards) {
    for (const check of shard.report.checks) {
      const other = owner.get(check.check_id);
      if (other) throw new MergeError(`check ${check.check_id} appears in two shards: ${other} and ${shard.dir}`);
      owner.set(check.check_id, shard.dir);
      checks.push(check);
    }
    for (const [checkId, log] of shard.logs) logs.set(checkId, log);
  }

  const first = shards[0]!.report;
  const parity = mergeParity(shards);
  // Lanes that did not run are recorded by shard 1 (placeholders) or by every shard (not evaluated): listed once.
  const lanesNotRun = [...new Map(shards.flatMap((shard) => shard.report.lanes_not_run ?? []).map((lane) => [lane.lane, lane])).values()];
  // One shard that could not evaluate its target leaves the run not evaluated: its checks never ran.
  const notEvaluated = shards.find((shard) => shard.report.decision === 'NOT-EVALUATED')?.report;
  const gate = notEvaluated?.evaluation_error
    ? { decision: 'NOT-EVALUATED' as const, reason: notEvaluated.evaluation_error.message }
    : withSelection(decideGate(checks, first.mode, parity.summary, lanesNotRun), first.check_selection);
  const runIds = new Set(shards.map((shard) => shard.report.run_id));
  const lanes = mergeLanes(shards, checks);
  const merged: Report = {
    schema: 'runtime-gate.report.v1',
    ...(runIds.size === 1 && first.run_id !== undefined ? { run_id: first.run_id } : {}),
    decision: gate.decision,
    decision_reason: gate.reason,
    mode: first.mode,
    shard: { index: 1, count: 1 },
    harness_version: first.harness_version,
    contract_digests: first.contract_digests,
    targets: mergeTargets(shards),
    ...(lanes ? { lanes } : {}),
    ...(lanesNotRun.length > 0 ? { lanes_not_run: lanesNotRun } : {}),
    ...(first.check_selection ? { check_selection: first.check_selection } : {}),
    ...(notEvaluated?.evaluation_error ? { evaluation_error: notEvaluated.evaluation_error } : {}),
    checks,
    totals: countTotals(checks),
    ...(parity.summary ? { parity: parity.summary } : {}),
    started_at: earliest(shards.map((shard) => shard.report.started_at)),
    finished_at: latest(shards.map((shard) => shard.report.finished_at)),
  };
  const written = writeReportFolder(outDir, merged, {
    logs,
    ...(parity.parityReport !== undefined ? { parityReport: parity.parityReport } : {}),
    ...(options.signKey !== undefined ? { signKey: options.signKey } : {}),
  });
  return { ...written, report: merged };
}
