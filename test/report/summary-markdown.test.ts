import { describe, expect, it } from 'vitest';
import { markdownCell, renderSummaryMarkdown } from '../../harness/report/summary-markdown.ts';
import { buildFixture, buildGoFixture } from './fixture-report.ts';

describe('SUMMARY.md (SPEC §5)', () => {
  it('matches the golden file for the fixture report', async () => {
    await expect(renderSummaryMarkdown(buildFixture().report, { hasParityReport: true })).toMatchFileSnapshot('golden/SUMMARY.md');
  });

  it('puts the decision first, then the failing checks before lanes, targets and digests', () => {
    const text = renderSummaryMarkdown(buildFixture().report);
    expect(text.startsWith('# NO-GO')).toBe(true);
    const order = ['## Failing checks', '## Not run', '## Lanes', '## Targets', '## Contract digests'].map((heading) => text.indexOf(heading));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('lists each failing check with its reason and evidence path, and skipped required ones in gate mode', () => {
    const text = renderSummaryMarkdown(buildFixture().report);
    const failing = text.slice(text.indexOf('## Failing checks'), text.indexOf('## Not run'));
    expect(failing).toContain('## Failing checks (4)');
    expect(failing).toContain('`khala.k6.budget-boundary` | khala | required | failed | expected stale\\_cursor');
    expect(failing).toContain('`logs/khala.k6.budget-boundary.log`');
    expect(failing).toContain('`drift.ledger.image-lock` | drift | required | skipped | missing\\_input:db\\_url');
    expect(failing).not.toContain('khala.k9.multi-node');
  });

  it('lists every lane that did not run and every skipped check with its reason', () => {
    const { report } = buildFixture();
    const text = renderSummaryMarkdown({ ...report, lanes_not_run: [{ lane: 'env', required: false, reason: 'missing_input:env_file' }] });
    const notRun = text.slice(text.indexOf('## Not run'), text.indexOf('## Lanes'));
    expect(notRun).toContain('## Not run (1 lane(s), ');
    expect(notRun).toContain('| lane env | optional | missing\\_input:env\\_file |');
    for (const check of report.checks.filter((c) => c.status === 'skipped')) {
      expect(notRun).toContain(`\`${check.check_id}\` | ${check.required} |`);
    }
    expect(report.checks.some((c) => c.status === 'skipped')).toBe(true);
  });

  it('does not list skipped required checks as failing in baseline mode', () => {
    const { report } = buildFixture();
    const text = renderSummaryMarkdown({ ...report, mode: 'baseline' });
    expect(text).toContain('## Failing checks (3)');
    expect(text).toContain('- Mode: `baseline`');
  });

  it('says GO and "None." when nothing failed', () => {
    const text = renderSummaryMarkdown(buildGoFixture().report);
    expect(text.startsWith('# GO')).toBe(true);
    expect(text).toContain('## Failing checks (0)\n\nNone.');
  });

  it.each([
    ['pipe', 'a | b', 'a \\| b'],
    ['newline', 'a\nb', 'a<br>b'],
    ['html', '<script>&', '\\<script\\>&amp;'],
    ['emphasis', 'snake_case *x*', 'snake\\_case \\*x\\*'],
    ['empty', '', '—'],
  ])('escapes a table cell: %s', (_name, raw, want) => {
    expect(markdownCell(raw)).toBe(want);
  });
});
