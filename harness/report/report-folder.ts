/**
 * Writes the report folder of a gate run (SPEC §5): results.tsv, SUMMARY.md, report.json,
 * junit.xml, report.html, logs/<check_id>.log, parity-report.json when parity ran, and
 * MANIFEST.sha256 (plus MANIFEST.sha256.sig with a signing key).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { sha256Hex } from '../../contracts/contract-files.ts';
import type { Report } from '../../contracts/generated/report.ts';
import { renderJunitXml } from './junit-xml.ts';
import { MANIFEST_FILE, renderManifest, SIGNATURE_FILE, type SignKey, signManifest, toPrivateKey } from './manifest.ts';
import { renderReportHtml } from './report-html.ts';
import { assertValidReport, logPathFor } from './report-validation.ts';
import { renderResultsTsv } from './results-tsv.ts';
import type { TimingSamples } from './samples-section.ts';
import { renderSummaryMarkdown } from './summary-markdown.ts';

export interface WriteReportOptions {
  /**
   * Evidence per check, keyed by check_id, written to `logs/<check_id>.log`. A check with a
   * log must have `log_path: "logs/<check_id>.log"` ({@link logPathFor}); one without, `""`.
   */
  logs: ReadonlyMap<string, string>;
  /** parity-report.json contents, written as JSON when parity ran; also drawn in report.html. */
  parityReport?: unknown;
  /** Ed25519 private key (KeyObject or PEM): also writes MANIFEST.sha256.sig. */
  signKey?: SignKey;
  /** Timing samples the lanes took (ms per series), drawn in report.html. */
  samples?: TimingSamples;
}

export interface ReportFolderResult {
  /** The folder, as given. */
  dir: string;
  /** sha256 (lowercase hex) of the MANIFEST.sha256 bytes: the evidence reference. */
  manifestSha256: string;
}

/**
 * Writes one report folder (SPEC §5). Validates `report` against
 * contracts/report.schema.json and its consistency (see `assertValidReport`) before writing
 * anything, and throws a `ReportValidationError` naming every violation. `dir` names the
 * folder itself: it must not exist or be empty. Files are written into a sibling temporary
 * folder renamed into place at the end, so a crash never leaves a half-written report.
 */
/** A report folder that may not be written (it already holds a report): a usage error, never overwritten. */
export class ReportFolderError extends Error {
  override readonly name = 'ReportFolderError';
}

/** Reports are evidence: an existing, non-empty folder is never overwritten. */
export function assertReportFolderFree(dir: string): void {
  const target = folderPath(dir);
  if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0)) {
    throw new ReportFolderError(`${dir}: ${statSync(target).isDirectory() ? 'report folder already exists and is not empty' : 'exists and is not a folder'}; choose a new --out folder`);
  }
}

const WRITE_PROBE = '.runtime-gate-write-probe';

/** The folder `dir` names; an existing one by its real path (a symbolic link to an empty folder is written through). */
function folderPath(dir: string): string {
  const target = resolve(dir);
  return existsSync(target) ? realpathSync(target) : target;
}

/**
 * Creates the report folder (empty) and proves it writable by writing and removing a file,
 * before any lane runs, so a run whose report cannot be written is refused up front.
 * Folders are created one level at a time: `mkdirSync(…, {recursive: true})` never returns
 * for some paths on Node 20 (e.g. under /proc), so it is not used here.
 */
export function prepareReportFolder(dir: string): { created: string[] } {
  assertReportFolderFree(dir);
  const target = folderPath(dir);
  const missing: string[] = [];
  let existing = target;
  while (!existsSync(existing)) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  try {
    if (!statSync(existing).isDirectory()) throw new ReportFolderError(`${dir}: ${existing} is not a folder; choose another --out folder`);
    for (const folder of missing) mkdirSync(folder);
    const probe = join(target, WRITE_PROBE);
    writeFileSync(probe, '');
    unlinkSync(probe);
    return { created: missing };
  } catch (error) {
    if (error instanceof ReportFolderError) throw error;
    const { code, message } = error as NodeJS.ErrnoException;
    throw new ReportFolderError(`${dir}: cannot write a report folder here (${code ?? message}); choose another --out folder`);
  }
}

/** {@link prepareReportFolder}, then the folders it created are removed again: a check that leaves nothing behind. */
export function probeReportFolder(dir: string): void {
  const { created } = prepareReportFolder(dir);
  for (const folder of created.reverse()) rmdirSync(folder);
}

export function writeReportFolder(dir: string, report: Report, options: WriteReportOptions): ReportFolderResult {
  const valid = assertValidReport(report, options.logs);
  const signKey = options.signKey === undefined ? undefined : toPrivateKey(options.signKey);
  const hasParity = options.parityReport !== undefined;
  const files = new Map<string, string>([
    ['results.tsv', renderResultsTsv(valid)],
    ['SUMMARY.md', renderSummaryMarkdown(valid, { hasParityReport: hasParity })],
    ['report.json', `${JSON.stringify(valid, null, 2)}\n`],
    ['junit.xml', renderJunitXml(valid)],
    ['report.html', renderReportHtml(valid, { ...(hasParity ? { parityReport: options.parityReport } : {}), ...(options.samples ? { samples: options.samples } : {}) })],
  ]);
  if (hasParity) {
    const json = JSON.stringify(options.parityReport, null, 2);
    if (json === undefined) throw new Error('parityReport: not representable as JSON');
    files.set('parity-report.json', `${json}\n`);
  }
  for (const [checkId, log] of options.logs) files.set(logPathFor(checkId), log);

  const target = folderPath(dir);
  prepareReportFolder(dir);
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}.partial-`));
  try {
    for (const [path, content] of files) {
      mkdirSync(dirname(join(staging, path)), { recursive: true });
      writeFileSync(join(staging, path), content);
    }
    const manifest = Buffer.from(renderManifest(staging), 'utf8');
    writeFileSync(join(staging, MANIFEST_FILE), manifest);
    if (signKey) writeFileSync(join(staging, SIGNATURE_FILE), signManifest(manifest, signKey));
    if (existsSync(target)) rmdirSync(target);
    renameSync(staging, target);
    return { dir, manifestSha256: sha256Hex(manifest) };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The one line `validate` prints for the operator to commit as the evidence reference
 * (SPEC §5, seed 003 policy 4): `evidence: <dir> sha256:<manifest sha256>`.
 */
export function evidenceLine(result: ReportFolderResult): string {
  return `evidence: ${result.dir} sha256:${result.manifestSha256}`;
}
