import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReportFolder } from '../../harness/report/report-folder.ts';
import { verifyReportFolder } from '../../harness/report/verify-report-folder.ts';
import { buildFixture, makeTempDir, removeTempDirs } from './fixture-report.ts';

afterAll(removeTempDirs);

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
let pristine: string;
let manifestSha256: string;

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(dir, `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]))
    .sort();
}

/** A fresh copy of the signed fixture folder to tamper with. */
function copyOfPristine(): string {
  const dir = join(makeTempDir('verify'), 'run');
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

beforeAll(() => {
  const { report, logs, parityReport } = buildFixture();
  pristine = join(makeTempDir('pristine'), 'run');
  manifestSha256 = writeReportFolder(pristine, report, { logs, parityReport, signKey: keys.privateKey }).manifestSha256;
});

describe('verifyReportFolder (SPEC §5 `report verify`)', () => {
  it('passes on a fresh folder, with and without the public key (KeyObject or PEM)', () => {
    expect(verifyReportFolder(pristine)).toEqual({ ok: true, problems: [], manifestSha256 });
    expect(verifyReportFolder(pristine, { publicKey: keys.publicKey })).toEqual({ ok: true, problems: [], manifestSha256 });
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyReportFolder(pristine, { publicKey: pem }).ok).toBe(true);
  });

  it('agrees with the real sha256sum on the untouched folder', () => {
    expect(() => execFileSync('sha256sum', ['--strict', '--quiet', '-c', 'MANIFEST.sha256'], { cwd: pristine })).not.toThrow();
  });

  it('detects one changed byte in every file of the folder', () => {
    const files = filesUnder(pristine);
    expect(files.length).toBeGreaterThanOrEqual(14);
    for (const file of files) {
      const dir = copyOfPristine();
      const bytes = readFileSync(join(dir, file));
      const at = Math.floor(bytes.length / 2);
      bytes[at] = bytes[at]! ^ 0x01;
      writeFileSync(join(dir, file), bytes);
      const withKey = verifyReportFolder(dir, { publicKey: keys.publicKey });
      expect(withKey.ok, `one byte changed in ${file} went unnoticed`).toBe(false);
      if (file === 'MANIFEST.sha256') {
        // The edited manifest line no longer matches its file, or the signature no longer matches the manifest.
        expect(withKey.problems.join('\n')).toMatch(/bad signature|malformed|edited|missing|added/);
      } else if (file === 'MANIFEST.sha256.sig') {
        expect(withKey.problems.join('\n')).toMatch(/MANIFEST\.sha256\.sig: (bad signature|malformed)/);
        expect(verifyReportFolder(dir).ok).toBe(true);
      } else {
        expect(withKey.problems).toEqual([expect.stringMatching(new RegExp(`^edited: ${file.replace(/\./g, '\\.')} \\(sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}\\)$`))]);
        expect(verifyReportFolder(dir).ok).toBe(false);
      }
    }
  });

  it('detects a deleted file, for every file of the folder', () => {
    for (const file of filesUnder(pristine)) {
      const dir = copyOfPristine();
      rmSync(join(dir, file));
      const result = verifyReportFolder(dir, { publicKey: keys.publicKey });
      expect(result.ok, `deleting ${file} went unnoticed`).toBe(false);
      expect(result.problems).toContainEqual(expect.stringMatching(new RegExp(`^missing: ${file.replace(/\./g, '\\.')}`)));
    }
  });

  it.each([['notes.txt'], ['logs/extra.log'], ['nested/deeper/file.bin'], ['.hidden']])('detects an added file: %s', (file) => {
    const dir = copyOfPristine();
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), 'not part of the run\n');
    expect(verifyReportFolder(dir)).toMatchObject({ ok: false, problems: [`added: ${file} (not in MANIFEST.sha256)`] });
  });

  it('detects a tampered signature', () => {
    const dir = copyOfPristine();
    const signature = Buffer.from(readFileSync(join(dir, 'MANIFEST.sha256.sig'), 'utf8').trim(), 'base64');
    signature[0] = signature[0]! ^ 0xff;
    writeFileSync(join(dir, 'MANIFEST.sha256.sig'), `${signature.toString('base64')}\n`);
    expect(verifyReportFolder(dir, { publicKey: keys.publicKey }).problems).toEqual([
      'MANIFEST.sha256.sig: bad signature: MANIFEST.sha256 was not signed by this key, or was changed after signing',
    ]);
  });

  it('detects a signature made with another key', () => {
    const dir = copyOfPristine();
    const manifest = readFileSync(join(dir, 'MANIFEST.sha256'));
    writeFileSync(join(dir, 'MANIFEST.sha256.sig'), `${sign(null, manifest, otherKeys.privateKey).toString('base64')}\n`);
    expect(verifyReportFolder(dir, { publicKey: keys.publicKey }).problems).toEqual([expect.stringMatching(/^MANIFEST\.sha256\.sig: bad signature/)]);
    expect(verifyReportFolder(pristine, { publicKey: otherKeys.publicKey }).ok).toBe(false);
  });

  it('detects a missing signature when a public key is given', () => {
    const dir = copyOfPristine();
    rmSync(join(dir, 'MANIFEST.sha256.sig'));
    expect(verifyReportFolder(dir).ok).toBe(true);
    expect(verifyReportFolder(dir, { publicKey: keys.publicKey }).problems).toEqual([
      'missing: MANIFEST.sha256.sig (a public key was given, so the manifest must be signed)',
    ]);
  });

  it('catches an edit whose hash was recomputed in the manifest only through the signature', () => {
    const dir = copyOfPristine();
    writeFileSync(join(dir, 'report.json'), readFileSync(join(dir, 'report.json'), 'utf8').replace('"NO-GO"', '"GO"'));
    const manifest = readFileSync(join(dir, 'MANIFEST.sha256'), 'utf8').replace(
      /^[0-9a-f]{64}(?= {2}report\.json$)/m,
      createHash('sha256').update(readFileSync(join(dir, 'report.json'))).digest('hex'),
    );
    writeFileSync(join(dir, 'MANIFEST.sha256'), manifest);
    expect(verifyReportFolder(dir).ok).toBe(true);
    expect(verifyReportFolder(dir, { publicKey: keys.publicKey }).problems).toEqual([expect.stringMatching(/^MANIFEST\.sha256\.sig: bad signature/)]);
  });

  it.each([
    ['a garbage line', (text: string) => `${text}this is not a manifest line\n`, /line 14: malformed: expected "<64 lowercase hex sha256> {2}<path>"/],
    ['a path outside the folder', (text: string) => `${text}${'0'.repeat(64)}  ../../etc/passwd\n`, /malformed: path "\.\.\/\.\.\/etc\/passwd" is not a plain relative path/],
    ['an absolute path', (text: string) => `${text}${'0'.repeat(64)}  /etc/passwd\n`, /is not a plain relative path/],
    ['a duplicated entry', (text: string) => `${text}${text.split('\n')[0]}\n`, /listed twice/],
    ['entries out of order', (text: string) => text.split('\n').filter(Boolean).reverse().join('\n').concat('\n'), /out of order/],
    ['uppercase hex', (text: string) => text.replace(/^[0-9a-f]{64}/, (hex) => hex.toUpperCase()), /line 1: malformed/],
    ['no final newline', (text: string) => text.trimEnd(), /does not end with a newline/],
    ['an empty manifest', () => '', /MANIFEST\.sha256: empty/],
    ['a line listing the manifest itself', (text: string) => `${'0'.repeat(64)}  MANIFEST.sha256\n${text}`, /must not list MANIFEST\.sha256/],
  ])('reports a malformed manifest: %s', (_name, edit, message) => {
    const dir = copyOfPristine();
    writeFileSync(join(dir, 'MANIFEST.sha256'), edit(readFileSync(join(dir, 'MANIFEST.sha256'), 'utf8')));
    const result = verifyReportFolder(dir);
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toMatch(message);
  });

  it('reports a missing manifest and a missing folder', () => {
    const dir = copyOfPristine();
    rmSync(join(dir, 'MANIFEST.sha256'));
    expect(verifyReportFolder(dir)).toEqual({ ok: false, problems: ['missing: MANIFEST.sha256'] });
    expect(verifyReportFolder(join(dir, 'nope')).problems).toEqual([`${join(dir, 'nope')}: not a directory`]);
  });

  it('refuses a public key that is not Ed25519', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => verifyReportFolder(pristine, { publicKey })).toThrow(/expected an Ed25519 public key/);
  });
});
