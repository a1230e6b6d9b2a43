/**
 * MANIFEST.sha256 of a report folder and its Ed25519 signature (SPEC §5): `sha256sum`
 * format, one `<hex>  <relative path>` line per file, sorted by path, forward slashes, so
 * `sha256sum -c MANIFEST.sha256` checks an untouched folder.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../contracts/contract-files.ts';

/** The manifest's file name inside a report folder (SPEC §5). */
export const MANIFEST_FILE = 'MANIFEST.sha256';
/** The manifest signature's file name (SPEC §5, `--sign-key`). */
export const SIGNATURE_FILE = 'MANIFEST.sha256.sig';

/** An Ed25519 private key, or a PEM string of one. */
export type SignKey = KeyObject | string;
/** A public key, a PEM string of one, or a private key (its public half is used). */
export type VerifyKey = KeyObject | string;

export interface ManifestEntry {
  sha256: string;
  path: string;
}

export interface FolderEntry {
  /** Relative path with forward slashes. */
  path: string;
  /** `file` for regular files; anything else (symlink, socket, …) is `other`. */
  kind: 'file' | 'other';
}

function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Every non-directory entry under `dir`, relative, forward slashes, sorted by path bytes.
 * @see SPEC §5
 */
export function listFolderEntries(dir: string): FolderEntry[] {
  const entries: FolderEntry[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(join(dir, relative))) {
      const path = relative ? `${relative}/${name}` : name;
      const stat = lstatSync(join(dir, path));
      if (stat.isDirectory()) walk(path);
      else entries.push({ path, kind: stat.isFile() ? 'file' : 'other' });
    }
  };
  walk('');
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * True for the two files the manifest never lists: itself and its signature.
 * @see SPEC §5
 */
export function isManifestFile(path: string): boolean {
  return path === MANIFEST_FILE || path === SIGNATURE_FILE;
}

/**
 * MANIFEST.sha256 text over every file in `dir` except the manifest and its signature
 * (SPEC §5). Throws on a path `sha256sum` would have to escape (newline, backslash) and on
 * anything that is not a regular file.
 */
export function renderManifest(dir: string): string {
  const lines: string[] = [];
  for (const entry of listFolderEntries(dir)) {
    if (isManifestFile(entry.path)) continue;
    if (entry.kind !== 'file') throw new Error(`${join(dir, entry.path)}: not a regular file; a report folder holds only files`);
    if (/[\\\n\r]/.test(entry.path)) throw new Error(`${join(dir, entry.path)}: file names with a backslash or newline are not allowed in a report folder`);
    lines.push(`${sha256Hex(readFileSync(join(dir, entry.path)))}  ${entry.path}`);
  }
  return lines.map((line) => `${line}\n`).join('');
}

const MANIFEST_LINE = /^([0-9a-f]{64}) ([ *])(.+)$/;

/**
 * Parses MANIFEST.sha256 text. Every line must be `<64 lowercase hex>  <path>` with a
 * relative, forward-slash path inside the folder (no `..`, no absolute path), listed once,
 * in sorted order; problems name the line.
 * @see SPEC §5
 */
export function parseManifest(text: string): { entries: ManifestEntry[]; problems: string[] } {
  const problems: string[] = [];
  const entries: ManifestEntry[] = [];
  if (text === '') return { entries, problems: [`${MANIFEST_FILE}: empty`] };
  if (!text.endsWith('\n')) problems.push(`${MANIFEST_FILE}: malformed: does not end with a newline`);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const seen = new Set<string>();
  let previous: string | undefined;
  for (const [index, line] of lines.entries()) {
    const where = `${MANIFEST_FILE} line ${index + 1}`;
    const match = MANIFEST_LINE.exec(line);
    if (!match) {
      problems.push(`${where}: malformed: expected "<64 lowercase hex sha256>  <path>", got ${JSON.stringify(line.slice(0, 120))}`);
      continue;
    }
    const [, sha256 = '', , path = ''] = match;
    const segments = path.split('/');
    if (path.startsWith('/') || path.includes('\\') || path.includes('\r') || segments.some((s) => s === '' || s === '.' || s === '..')) {
      problems.push(`${where}: malformed: path ${JSON.stringify(path)} is not a plain relative path inside the folder`);
      continue;
    }
    if (isManifestFile(path)) {
      problems.push(`${where}: malformed: the manifest must not list ${path}`);
      continue;
    }
    if (seen.has(path)) {
      problems.push(`${where}: malformed: ${path} listed twice`);
      continue;
    }
    if (previous !== undefined && comparePaths(previous, path) > 0) {
      problems.push(`${where}: malformed: ${path} is out of order (entries are sorted by path)`);
    }
    seen.add(path);
    previous = path;
    entries.push({ sha256, path });
  }
  return { entries, problems };
}

/**
 * The Ed25519 private KeyObject of a {@link SignKey}; throws on any other kind of key.
 * @see SPEC §5
 */
export function toPrivateKey(key: SignKey): KeyObject {
  const keyObject = typeof key === 'string' ? createPrivateKey(key) : key;
  if (keyObject.type !== 'private' || keyObject.asymmetricKeyType !== 'ed25519') {
    throw new Error(`signKey: expected an Ed25519 private key, got a ${keyObject.asymmetricKeyType ?? 'symmetric'} ${keyObject.type} key`);
  }
  return keyObject;
}

/**
 * The Ed25519 public KeyObject of a {@link VerifyKey}; throws on any other kind of key.
 * @see SPEC §5
 */
export function toPublicKey(key: VerifyKey): KeyObject {
  const keyObject = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  if (keyObject.type !== 'public' || keyObject.asymmetricKeyType !== 'ed25519') {
    throw new Error(`publicKey: expected an Ed25519 public key, got a ${keyObject.asymmetricKeyType ?? 'symmetric'} ${keyObject.type} key`);
  }
  return keyObject;
}

/** MANIFEST.sha256.sig text: the base64 Ed25519 signature of the manifest bytes and a newline (SPEC §5). */
export function signManifest(manifest: Uint8Array, key: SignKey): string {
  return `${sign(null, manifest, toPrivateKey(key)).toString('base64')}\n`;
}

/**
 * Checks a MANIFEST.sha256.sig text against the manifest bytes; returns a problem or undefined.
 * @see SPEC §5
 */
export function checkManifestSignature(manifest: Uint8Array, signatureText: string, key: VerifyKey): string | undefined {
  const encoded = signatureText.trim();
  const signature = Buffer.from(encoded, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || signature.length !== 64 || signature.toString('base64') !== encoded) {
    return `${SIGNATURE_FILE}: malformed: expected the base64 of a 64-byte Ed25519 signature`;
  }
  return verify(null, manifest, toPublicKey(key), signature)
    ? undefined
    : `${SIGNATURE_FILE}: bad signature: ${MANIFEST_FILE} was not signed by this key, or was changed after signing`;
}
