import { describe, expect, it } from 'vitest';
import { escapeTsvValue, parseResultsTsv, RESULTS_TSV_HEADER, renderResultsTsv, unescapeTsvValue } from '../../harness/report/results-tsv.ts';
import { buildFixture, TRICKY_DETAIL } from './fixture-report.ts';

describe('results.tsv (SPEC §5)', () => {
  it('matches the golden file for the fixture report', async () => {
    await expect(renderResultsTsv(buildFixture().report)).toMatchFileSnapshot('golden/results.tsv');
  });

  it('starts with the exact header row of seed 003', () => {
    const text = renderResultsTsv(buildFixture().report);
    expect(text.split('\n')[0]).toBe('check_id\tlane\trequired\tstatus\tduration_ms\tdescription\tlog_path\tdetail');
    expect(RESULTS_TSV_HEADER).toBe('check_id\tlane\trequired\tstatus\tduration_ms\tdescription\tlog_path\tdetail');
  });

  it('keeps one line of 8 columns per check, whatever the values hold', () => {
    const { report } = buildFixture();
    const lines = renderResultsTsv(report).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(1, -1)).toHaveLength(report.checks.length);
    for (const line of lines) if (line) expect(line.split('\t')).toHaveLength(8);
  });

  it.each([
    ['tab', 'a\tb', 'a\\tb'],
    ['newline', 'a\nb', 'a\\nb'],
    ['carriage return', 'a\rb', 'a\\rb'],
    ['backslash', 'C:\\x', 'C:\\\\x'],
    ['a literal backslash-t stays distinct from a tab', '\\t', '\\\\t'],
    ['plain text', 'plain', 'plain'],
  ])('escapes %s', (_name, raw, escaped) => {
    expect(escapeTsvValue(raw)).toBe(escaped);
    expect(unescapeTsvValue(escaped)).toBe(raw);
  });

  it('round-trips every check through parseResultsTsv', () => {
    const { report } = buildFixture();
    const rows = parseResultsTsv(renderResultsTsv(report));
    expect(rows.map((row) => row.detail)).toEqual(report.checks.map((check) => check.detail));
    expect(rows.find((row) => row.check_id === 'khala.k6.budget-boundary')?.detail).toBe(TRICKY_DETAIL);
    expect(rows.map((row) => Number(row.duration_ms))).toEqual(report.checks.map((check) => check.duration_ms));
  });

  it('refuses a file with another header', () => {
    expect(() => parseResultsTsv('id\tstatus\n')).toThrow(/expected header/);
  });
});
