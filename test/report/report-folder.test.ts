import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evidenceLine, writeReportFolder } from '../../harness/report/report-folder.ts';
import { ReportValidationError, validateReportSchema } from '../../harness/report/report-validation.ts';
import { buildFixture, makeTempDir, removeTempDirs } from './fixture-report.ts';

afterAll(removeTempDirs);

const EXPECTED_FILES = [
  'MANIFEST.sha256',
  'SUMMARY.md',
  'junit.xml',
  'logs/credit.cep.settle-replay.log',
  'logs/health.healthz.status-ok.log',
  'logs/health.readyz.ledger-matches.log',
  'logs/khala.k4.exact-resume.log',
  'logs/khala.k6.budget-boundary.log',
  'logs/observability.metrics.no-5xx.log',
  'logs/parity.scenario.happy-path.log',
  'parity-report.json',
  'report.html',
  'report.json',
  'results.tsv',
];

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(dir, `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]))
    .sort();
}

describe('writeReportFolder (SPEC §5)', () => {
  it('writes every file of the folder, and report.json round-trips', () => {
    const { report, logs, parityReport } = buildFixture();
    const dir = join(makeTempDir('write'), 'run');
    writeReportFolder(dir, report, { logs, parityReport });
    expect(filesUnder(dir)).toEqual(EXPECTED_FILES);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toEqual(report);
    expect(JSON.parse(readFileSync(join(dir, 'parity-report.json'), 'utf8'))).toEqual(parityReport);
    expect(readFileSync(join(dir, 'logs/khala.k6.budget-boundary.log'), 'utf8')).toBe(logs.get('khala.k6.budget-boundary'));
    expect(validateReportSchema(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')))).toEqual([]);
  });

  it('writes a sorted sha256sum manifest over every other file, and returns its sha256 for the evidence line', () => {
    const { report, logs, parityReport } = buildFixture();
    const dir = join(makeTempDir('manifest'), 'run');
    const result = writeReportFolder(dir, report, { logs, parityReport });
    const manifest = readFileSync(join(dir, 'MANIFEST.sha256'));
    const lines = manifest.toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => line.slice(66))).toEqual(EXPECTED_FILES.filter((file) => file !== 'MANIFEST.sha256'));
    for (const line of lines) {
      expect(line).toMatch(/^[0-9a-f]{64} {2}\S+$/);
      const [hash, path] = [line.slice(0, 64), line.slice(66)];
      expect(createHash('sha256').update(readFileSync(join(dir, path))).digest('hex')).toBe(hash);
    }
    expect(result).toEqual({ dir, manifestSha256: createHash('sha256').update(manifest).digest('hex') });
    expect(evidenceLine(result)).toBe(`evidence: ${dir} sha256:${result.manifestSha256}`);
  });

  it('passes the real `sha256sum -c MANIFEST.sha256` inside the folder', () => {
    const { report, logs, parityReport } = buildFixture();
    const dir = join(makeTempDir('sha256sum'), 'run');
    writeReportFolder(dir, report, { logs, parityReport });
    const out = execFileSync('sha256sum', ['--strict', '-c', 'MANIFEST.sha256'], { cwd: dir, encoding: 'utf8' });
    expect(out.trim().split('\n')).toHaveLength(EXPECTED_FILES.length - 1);
    expect(out).not.toMatch(/FAILED/);
  });

  it('signs the manifest bytes with an Ed25519 key (KeyObject or PEM)', () => {
    const { report, logs } = buildFixture();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    for (const signKey of [privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()]) {
      const dir = join(makeTempDir('sign'), 'run');
      writeReportFolder(dir, report, { logs, signKey });
      const signature = Buffer.from(readFileSync(join(dir, 'MANIFEST.sha256.sig'), 'utf8').trim(), 'base64');
      expect(verify(null, readFileSync(join(dir, 'MANIFEST.sha256')), publicKey, signature)).toBe(true);
      expect(readFileSync(join(dir, 'MANIFEST.sha256'), 'utf8')).not.toContain('MANIFEST.sha256.sig');
    }
  });

  it('refuses a key that is not an Ed25519 private key, before writing', () => {
    const { report, logs } = buildFixture();
    const dir = join(makeTempDir('badkey'), 'run');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => writeReportFolder(dir, report, { logs, signKey: privateKey })).toThrow(/expected an Ed25519 private key/);
    expect(existsSync(dir)).toBe(false);
  });

  it('validates against contracts/report.schema.json before writing anything, naming every violation', () => {
    const { report, logs } = buildFixture();
    const broken = structuredClone(report) as unknown as Record<string, unknown> & { checks: Record<string, unknown>[] };
    broken.mode = 'yolo';
    broken.checks[1]!.status = 'green';
    broken.checks[2]!.check_id = 'Not An Id';
    broken.surprise = true;
    const parent = makeTempDir('invalid');
    const dir = join(parent, 'run');
    let error: unknown;
    try {
      writeReportFolder(dir, broken as never, { logs });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ReportValidationError);
    const problems = (error as ReportValidationError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'report: unknown property "surprise"',
        expect.stringMatching(/^report\.mode: must be equal to one of the allowed values \("gate", "baseline"\)$/),
        expect.stringMatching(/^report\.checks\[1\]\.status: must be equal to one of the allowed values/),
        expect.stringMatching(/^report\.checks\[2\]\.check_id: must match pattern/),
      ]),
    );
    expect((error as Error).message).toContain('contracts/report.schema.json');
    expect(readdirSync(parent)).toEqual([]);
  });

  it.each([
    ['a decision the checks contradict', (f: ReturnType<typeof buildFixture>) => Object.assign(f.report, { decision: 'GO' }), /report\.decision: GO contradicts the checks, which give NO-GO/],
    ['totals that do not add up', (f: ReturnType<typeof buildFixture>) => Object.assign(f.report.totals, { passed: 99 }), /report\.totals\.passed: expected 5 from the checks, got 99/],
    ['a duplicate check id', (f: ReturnType<typeof buildFixture>) => f.report.checks.push({ ...f.report.checks[0]!, status: 'passed' }), /duplicate check id health\.healthz\.status-ok/],
    ['a log for an unknown check', (f: ReturnType<typeof buildFixture>) => f.logs.set('health.nope.nope', 'x'), /log given for "health\.nope\.nope"/],
    ['a log_path without a log', (f: ReturnType<typeof buildFixture>) => f.logs.delete('khala.k4.exact-resume'), /checks\[3\]\.log_path: "logs\/khala\.k4\.exact-resume\.log" but no log is given/],
  ])('refuses %s, before writing', (_name, mutate, message) => {
    const fixture = buildFixture();
    mutate(fixture);
    const parent = makeTempDir('inconsistent');
    expect(() => writeReportFolder(join(parent, 'run'), fixture.report, { logs: fixture.logs })).toThrow(message);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses a folder that already holds files, and writes into an empty one', () => {
    const { report, logs } = buildFixture();
    const dir = join(makeTempDir('exists'), 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'stale.txt'), 'old');
    expect(() => writeReportFolder(dir, report, { logs })).toThrow(/already exists and is not empty/);
    const empty = join(makeTempDir('empty'), 'run');
    mkdirSync(empty);
    writeReportFolder(empty, report, { logs });
    expect(existsSync(join(empty, 'MANIFEST.sha256'))).toBe(true);
    expect(readdirSync(join(empty, '..'))).toEqual(['run']);
  });
});
