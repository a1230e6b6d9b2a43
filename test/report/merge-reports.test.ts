import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../contracts/generated/report.ts';
import { buildParityReport, paritySummaryOf } from '../../harness/parity/parity-report.ts';
import { mergeReportFolders } from '../../harness/report/merge-reports.ts';
import { writeReportFolder } from '../../harness/report/report-folder.ts';
import { verifyReportFolder } from '../../harness/report/verify-report-folder.ts';
import { buildFixture, buildGoFixture, buildReport, type Fixture, makeTempDir, removeTempDirs, splitIntoShards } from './fixture-report.ts';

afterAll(removeTempDirs);

/** Writes each shard fixture into its own folder; returns the folders in shard order. */
function writeShards(shards: readonly Fixture[], signKey?: Parameters<typeof writeReportFolder>[2]['signKey']): string[] {
  const parent = makeTempDir('shards');
  return shards.map((shard) => {
    const dir = join(parent, `shard-${shard.report.shard.index}-of-${shard.report.shard.count}`);
    writeReportFolder(dir, shard.report, {
      logs: shard.logs,
      ...(shard.parityReport !== undefined ? { parityReport: shard.parityReport } : {}),
      ...(signKey ? { signKey } : {}),
    });
    return dir;
  });
}

function withReport(shard: Fixture, change: (report: Report) => Partial<Report>): Fixture {
  return { ...shard, report: buildReport(shard.report.checks, { ...shard.report, ...change(shard.report) }) };
}

describe('mergeReportFolders (SPEC §5 `report merge`)', () => {
  it('merges 3 shards into one folder equal in checks, totals and decision to the unsharded run', () => {
    const fixture = buildFixture();
    const dirs = writeShards(splitIntoShards(fixture, 3));
    const out = join(makeTempDir('merged'), 'merged');
    const { report, dir, manifestSha256 } = mergeReportFolders([dirs[2]!, dirs[0]!, dirs[1]!], out);
    expect(dir).toBe(out);
    expect(manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.shard).toEqual({ index: 1, count: 1 });
    expect(new Set(report.checks.map((check) => check.check_id))).toEqual(new Set(fixture.report.checks.map((check) => check.check_id)));
    // Concatenated in shard order: shard 1's checks first.
    expect(report.checks.slice(0, 4).map((check) => check.check_id)).toEqual(fixture.report.checks.filter((_c, i) => i % 3 === 0).map((c) => c.check_id));
    expect(report.totals).toEqual(fixture.report.totals);
    expect(report.decision).toBe('NO-GO');
    expect(report.parity).toEqual(fixture.report.parity);
    expect(report.targets).toEqual(fixture.report.targets);
    expect(verifyReportFolder(out).ok).toBe(true);
    for (const [checkId, log] of fixture.logs) expect(readFileSync(join(out, 'logs', `${checkId}.log`), 'utf8')).toBe(log);
    expect(JSON.parse(readFileSync(join(out, 'parity-report.json'), 'utf8'))).toEqual(fixture.parityReport);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(report);
  });

  it('decides parity again even when only one shard carries it: a shard that compared nothing cannot allow the merged run', () => {
    const [first, second] = splitIntoShards(buildGoFixture(), 2);
    // Shard 1 ran the parity gate check only: nothing compared, allowed for that shard alone.
    const shardReport = buildParityReport({
      seed: 1, policy: { path: 'contracts/parity-policy.json', sha256: 'c'.repeat(64) },
      baseline: { name: 'b', base_url: 'http://127.0.0.1:1', build_sha: 'dev' }, candidate: { name: 'c', base_url: 'http://127.0.0.1:2', build_sha: 'dev' },
      comparisons: [], diffs: [], counted: { critical: 0, warning: 0, ignored: 0 },
      settings: { maxWarnings: 0, blockOnCritical: true, requireComparisons: false },
    });
    expect(shardReport.gate.decision).toBe('allow');
    const withParity = { ...withReport(first!, () => ({ parity: paritySummaryOf(shardReport) })), parityReport: shardReport };
    const merged = mergeReportFolders(writeShards([withParity, second!]), join(makeTempDir('merged'), 'one-parity-shard'));
    expect(merged.report.parity?.decision).toBe('block');
    expect(merged.report.decision).toBe('NO-GO');
  });

  it('is GO when every shard is GO, and NO-GO when one shard is NO-GO', () => {
    const go = splitIntoShards(buildGoFixture(), 2);
    expect(go.map((shard) => shard.report.decision)).toEqual(['GO', 'GO']);
    expect(mergeReportFolders(writeShards(go), join(makeTempDir('merged'), 'go')).report.decision).toBe('GO');

    const failedCheck = { ...go[1]!.report.checks[0]!, status: 'failed' as const, detail: 'broken' };
    const noGoShard = withReport(go[1]!, (report) => ({ checks: [failedCheck, ...report.checks.slice(1)] }));
    expect(noGoShard.report.decision).toBe('NO-GO');
    const merged = mergeReportFolders(writeShards([go[0]!, noGoShard]), join(makeTempDir('merged'), 'no-go')).report;
    expect(merged.decision).toBe('NO-GO');
    expect(merged.decision_reason).toContain(failedCheck.check_id);
  });

  it('checks shard signatures with publicKey and signs the merged folder with signKey', () => {
    const keys = generateKeyPairSync('ed25519');
    const dirs = writeShards(splitIntoShards(buildGoFixture(), 2), keys.privateKey);
    const out = join(makeTempDir('merged'), 'signed');
    mergeReportFolders(dirs, out, { publicKey: keys.publicKey, signKey: keys.privateKey });
    expect(verifyReportFolder(out, { publicKey: keys.publicKey }).ok).toBe(true);
    const other = generateKeyPairSync('ed25519');
    expect(() => mergeReportFolders(dirs, join(makeTempDir('merged'), 'x'), { publicKey: other.publicKey })).toThrow(/does not verify.*\n.*bad signature/);
  });

  const refusals: [string, () => string[], RegExp][] = [
    ['a missing shard', () => writeShards(splitIntoShards(buildGoFixture(), 3)).slice(0, 2), /report merge: missing shard 3 of 3/],
    [
      'a duplicate shard',
      () => {
        const dirs = writeShards(splitIntoShards(buildGoFixture(), 2));
        return [dirs[0]!, dirs[0]!, dirs[1]!];
      },
      /report merge: shard 1\/2 given twice: .*shard-1-of-2 and .*shard-1-of-2/,
    ],
    [
      'differing shard counts',
      () => [writeShards(splitIntoShards(buildGoFixture(), 2))[0]!, writeShards(splitIntoShards(buildGoFixture(), 3))[1]!],
      /report merge: shard counts differ: .*\(shard 1\/2\) vs .*\(shard 2\/3\)/,
    ],
    [
      'differing contract digests',
      () => {
        const [a, b] = splitIntoShards(buildGoFixture(), 2);
        const changed = withReport(b!, (report) => ({ contract_digests: { ...report.contract_digests, 'contracts/report.schema.json': 'e'.repeat(64) } }));
        return writeShards([a!, changed]);
      },
      /report merge: contract digests differ between .* and .*: contracts\/report\.schema\.json/,
    ],
    [
      'differing modes',
      () => {
        const [a, b] = splitIntoShards(buildGoFixture(), 2);
        return writeShards([a!, withReport(b!, () => ({ mode: 'baseline' }))]);
      },
      /report merge: modes differ: .* is gate, .* is baseline/,
    ],
    [
      'a check id present in two shards',
      () => {
        const [a, b] = splitIntoShards(buildGoFixture(), 2);
        const stolen = a!.report.checks[0]!;
        const dup = withReport(b!, (report) => ({ checks: [...report.checks, stolen] }));
        const log = a!.logs.get(stolen.check_id);
        if (log !== undefined) dup.logs.set(stolen.check_id, log);
        return writeShards([a!, dup]);
      },
      /report merge: check health\.healthz\.status-ok appears in two shards: .*shard-1-of-2 and .*shard-2-of-2/,
    ],
    [
      'a target build that differs between shards',
      () => {
        const [a, b] = splitIntoShards(buildGoFixture(), 2);
        const other = withReport(b!, (report) => ({ targets: report.targets.map((t) => (t.role === 'candidate' ? { ...t, build_sha: 'deadbeef' } : t)) }));
        return writeShards([a!, other]);
      },
      /report merge: candidate target staging differs between shards: .* build 3f2a9c1d0e7b, .* build deadbeef/,
    ],
    [
      'a tampered shard',
      () => {
        const dirs = writeShards(splitIntoShards(buildGoFixture(), 2));
        writeFileSync(join(dirs[1]!, 'results.tsv'), 'tampered\n');
        return dirs;
      },
      /report merge: .*shard-2-of-2 does not verify, refusing to merge it:\n {2}- edited: results\.tsv/,
    ],
    [
      'no folders at all',
      () => [],
      /report merge: no shard folders given/,
    ],
  ];
  it.each(refusals)('refuses %s, writing nothing', (_name, setup, message) => {
    const dirs = setup();
    const parent = makeTempDir('refused');
    expect(() => mergeReportFolders(dirs, join(parent, 'merged'))).toThrow(message);
    expect(readdirSync(parent)).toEqual([]);
  });
});
