/**
 * parity-report.json (`schema: runtime-gate.parity.v1`, contracts/parity-report.schema.json):
 * the parity gate (SPEC §5: `--max-warnings`, default 0; `--block-on-critical`, default
 * true), building the report from a run's comparisons, validating it before it is
 * written, and merging the reports of shards into one decision.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { contractPaths, PACKAGE_ROOT, sha256Hex } from '../../contracts/contract-files.ts';
import type { Comparison, Identity, ParityReport } from '../../contracts/generated/parity-report.ts';
import type { ParitySummary } from '../report/gate-decision.ts';
import type { ComparisonCounts, ParityDiff } from './compare-ledgers.ts';

export const PARITY_REPORT_SCHEMA_PATH = contractPaths.parityReportSchema;

export type ParityIdentity = Identity;
export type ParityComparison = Comparison & ComparisonCounts;
export type { ParityReport };

export interface ParityGateSettings {
  /** Warning diffs allowed before the gate blocks (default 0). */
  maxWarnings: number;
  /** Whether one critical diff blocks (default true). */
  blockOnCritical: boolean;
  /**
   * Whether comparing nothing blocks (default true). Off in one shard of a sharded run:
   * a shard may hold no runnable scenario; the merged report decides again with it on.
   */
  requireComparisons?: boolean;
}

export type ParityGate = ParityReport['gate'];

export const DEFAULT_GATE_SETTINGS: ParityGateSettings = { maxWarnings: 0, blockOnCritical: true };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The parity gate: block on any critical diff (unless blockOnCritical is false), and on
 * more warning diffs than maxWarnings. Nothing compared at all also blocks: a parity run
 * that saw nothing is no evidence of parity.
 */
export function decideParityGate(totals: { critical: number; warning: number; comparisons: number; events_compared: number }, settings: ParityGateSettings): ParityGate {
  const base = { max_warnings: settings.maxWarnings, block_on_critical: settings.blockOnCritical };
  const reasons: string[] = [];
  if (totals.critical > 0 && settings.blockOnCritical) reasons.push(`${plural(totals.critical, 'critical diff')} (a critical diff always blocks)`);
  if (totals.warning > settings.maxWarnings) reasons.push(`${plural(totals.warning, 'warning diff')}, more than --max-warnings ${settings.maxWarnings}`);
  if (totals.comparisons === 0 && settings.requireComparisons !== false) reasons.push('nothing was compared (no scenario ran and no parity_topics were replayed)');
  if (reasons.length > 0) return { decision: 'block', reason: reasons.join('; '), ...base };
  const notes = [totals.comparisons === 0 ? 'nothing compared in this shard' : `${plural(totals.comparisons, 'comparison')}, ${plural(totals.events_compared, 'observation')} compared`];
  if (totals.critical > 0) notes.push(`${plural(totals.critical, 'critical diff')} not blocking (--block-on-critical off)`);
  notes.push(totals.warning > 0 ? `${plural(totals.warning, 'warning diff')} within --max-warnings ${settings.maxWarnings}` : 'no warning diffs');
  return { decision: 'allow', reason: notes.join('; '), ...base };
}

/** report.json's `parity` (SPEC §2.6) from a parity report. */
export function paritySummaryOf(report: ParityReport): ParitySummary {
  return { decision: report.gate.decision, reason: report.gate.reason, critical: report.totals.critical, warning: report.totals.warning };
}

export function policyReference(path: string): { path: string; sha256: string } {
  const rel = relative(PACKAGE_ROOT, path);
  return { path: rel.startsWith('..') ? path : rel, sha256: sha256Hex(readFileSync(path)) };
}

export interface BuildParityReportInput {
  seed: number;
  policy: { path: string; sha256: string };
  baseline: ParityIdentity;
  candidate: ParityIdentity;
  comparisons: ParityComparison[];
  diffs: ParityDiff[];
  /** Totals over every diff counted (the stored diffs may be capped). */
  counted: { critical: number; warning: number; ignored: number };
  settings: ParityGateSettings;
  now?: Date;
}

function modeOf(comparisons: readonly ParityComparison[]): ParityReport['mode'] {
  const compared = comparisons.filter((c) => c.status === 'compared');
  const readOnly = compared.filter((c) => c.topic !== undefined).length;
  if (readOnly === 0) return 'scenarios';
  return readOnly === compared.length ? 'read_only' : 'mixed';
}

export function buildParityReport(input: BuildParityReportInput): ParityReport {
  const compared = input.comparisons.filter((c) => c.status === 'compared');
  const totals = {
    comparisons: compared.length,
    events_compared: compared.reduce((sum, c) => sum + c.events_compared, 0),
    critical: input.counted.critical,
    warning: input.counted.warning,
    ignored: input.counted.ignored,
    diffs_stored: input.diffs.length,
    diffs_omitted: Math.max(0, input.counted.critical + input.counted.warning - input.diffs.length),
  };
  return {
    schema: 'runtime-gate.parity.v1',
    generated_at: (input.now ?? new Date()).toISOString(),
    mode: modeOf(input.comparisons),
    seed: input.seed,
    policy: input.policy,
    baseline: input.baseline,
    candidate: input.candidate,
    comparisons: input.comparisons,
    diffs: input.diffs,
    totals,
    gate: decideParityGate(totals, input.settings),
  };
}

let compiled: ValidateFunction | undefined;

/** Problems of a parity report against contracts/parity-report.schema.json (empty when valid). */
export function validateParityReport(value: unknown): string[] {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    compiled = ajv.compile(JSON.parse(readFileSync(PARITY_REPORT_SCHEMA_PATH, 'utf8')));
  }
  if (compiled(value)) return [];
  return (compiled.errors ?? []).map((e) => `parity-report${e.instancePath.replace(/\//g, '.')} ${e.message ?? e.keyword}`);
}

export class ParityReportError extends Error {
  override readonly name = 'ParityReportError';
}

export function assertValidParityReport(value: unknown): ParityReport {
  const problems = validateParityReport(value);
  if (problems.length > 0) throw new ParityReportError(`parity-report.json does not match contracts/parity-report.schema.json:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return value as ParityReport;
}

/**
 * Merges the parity reports of the shards of one run (`--shard i/n`: each shard ran some
 * scenarios). Identities, seed, policy and gate settings must agree; comparisons and
 * diffs are concatenated (diffs re-capped at `maxStored`), totals summed, the gate decided
 * again over the sums, so e.g. warnings split across shards still count against one budget.
 */
export function mergeParityReports(reports: readonly ParityReport[], maxStored = 1000): ParityReport {
  const [first, ...rest] = reports;
  if (!first) throw new ParityReportError('no parity reports to merge');
  for (const other of rest) {
    const differs = (what: string, a: unknown, b: unknown) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new ParityReportError(`parity reports of the shards disagree on ${what}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    };
    differs('the baseline', [first.baseline.base_url, first.baseline.build_sha], [other.baseline.base_url, other.baseline.build_sha]);
    differs('the candidate', [first.candidate.base_url, first.candidate.build_sha], [other.candidate.base_url, other.candidate.build_sha]);
    differs('the seed', first.seed, other.seed);
    differs('the policy', first.policy.sha256, other.policy.sha256);
    differs('the gate settings', [first.gate.max_warnings, first.gate.block_on_critical], [other.gate.max_warnings, other.gate.block_on_critical]);
  }
  const sum = (pick: (r: ParityReport) => number) => reports.reduce((total, r) => total + pick(r), 0);
  const diffs = reports.flatMap((r) => r.diffs).slice(0, maxStored);
  const latest = reports.map((r) => r.generated_at).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  return buildParityReport({
    seed: first.seed,
    policy: first.policy,
    baseline: first.baseline,
    candidate: first.candidate,
    comparisons: reports.flatMap((r) => r.comparisons),
    diffs,
    counted: { critical: sum((r) => r.totals.critical), warning: sum((r) => r.totals.warning), ignored: sum((r) => r.totals.ignored) },
    settings: { maxWarnings: first.gate.max_warnings, blockOnCritical: first.gate.block_on_critical },
    now: new Date(latest),
  });
}
