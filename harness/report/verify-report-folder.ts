/**
 * `runtime-gate report verify DIR [--pubkey K]` (SPEC §5): a report folder is intact when
 * every file matches MANIFEST.sha256, nothing was added or removed, and — with a public
 * key — the manifest carries a good Ed25519 signature (whoever can edit files can also
 * recompute hashes).
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../contracts/contract-files.ts';
import { checkManifestSignature, isManifestFile, listFolderEntries, MANIFEST_FILE, parseManifest, SIGNATURE_FILE, toPublicKey, type VerifyKey } from './manifest.ts';

export interface VerifyReportOptions {
  /** Ed25519 public key (KeyObject or PEM): the signature is then required and checked. */
  publicKey?: VerifyKey;
}

export interface VerifyReportResult {
  ok: boolean;
  /** One line per problem, naming the file: `edited: report.json (…)`, `added: x`, `missing: y`. */
  problems: string[];
  /** sha256 of the MANIFEST.sha256 bytes, to compare with the committed evidence line. */
  manifestSha256?: string;
}

/**
 * Verifies a report folder (SPEC §5). Reports every edited, added (any file the manifest
 * does not list, other than MANIFEST.sha256 and its .sig) or missing file, a malformed
 * manifest, and — when `publicKey` is given — a missing, malformed or bad signature.
 * Never throws for what it finds in the folder; throws only on a wrong kind of key.
 */
export function verifyReportFolder(dir: string, options: VerifyReportOptions = {}): VerifyReportResult {
  const publicKey = options.publicKey === undefined ? undefined : toPublicKey(options.publicKey);
  if (!existsSync(dir) || !lstatSync(dir).isDirectory()) {
    return { ok: false, problems: [`${dir}: not a directory`] };
  }
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath) || !lstatSync(manifestPath).isFile()) {
    return { ok: false, problems: [`missing: ${MANIFEST_FILE}`] };
  }
  const manifest = readFileSync(manifestPath);
  const manifestSha256 = sha256Hex(manifest);
  const { entries, problems } = parseManifest(manifest.toString('utf8'));

  const onDisk = new Map(listFolderEntries(dir).map((entry) => [entry.path, entry.kind]));
  for (const entry of entries) {
    const kind = onDisk.get(entry.path);
    if (kind === undefined) {
      problems.push(`missing: ${entry.path}`);
    } else if (kind !== 'file') {
      problems.push(`edited: ${entry.path} (not a regular file any more)`);
    } else {
      const actual = sha256Hex(readFileSync(join(dir, entry.path)));
      if (actual !== entry.sha256) problems.push(`edited: ${entry.path} (sha256 ${actual}, manifest says ${entry.sha256})`);
    }
  }
  const listed = new Set(entries.map((entry) => entry.path));
  for (const [path, kind] of onDisk) {
    if (isManifestFile(path)) {
      if (kind !== 'file') problems.push(`edited: ${path} (not a regular file)`);
      continue;
    }
    if (!listed.has(path)) problems.push(`added: ${path} (not in ${MANIFEST_FILE})`);
  }

  if (publicKey) {
    if (onDisk.get(SIGNATURE_FILE) !== 'file') {
      problems.push(`missing: ${SIGNATURE_FILE} (a public key was given, so the manifest must be signed)`);
    } else {
      const problem = checkManifestSignature(manifest, readFileSync(join(dir, SIGNATURE_FILE), 'utf8'), publicKey);
      if (problem) problems.push(problem);
    }
  }
  return { ok: problems.length === 0, problems, manifestSha256 };
}
