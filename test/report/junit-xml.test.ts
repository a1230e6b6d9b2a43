import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import type { Report } from '../../contracts/generated/report.ts';
import { renderJunitXml } from '../../harness/report/junit-xml.ts';
import { buildFixture, buildReport } from './fixture-report.ts';

/**
 * The Jenkins JUnit schema (see the comment at the top of junit.xsd for its source), checked
 * with libxml2's xmllint compiled to WebAssembly (npm xmllint-wasm): the same validator as
 * `xmllint --schema junit.xsd junit.xml`, with nothing to install.
 */
const JUNIT_XSD = readFileSync(new URL('./junit.xsd', import.meta.url), 'utf8');

async function validateJunit(xml: string) {
  const result = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [JUNIT_XSD] });
  return { valid: result.valid, errors: result.errors.map((error) => error.rawMessage) };
}

function reportWithDetail(detail: string): Report {
  return buildReport([
    { check_id: 'health.a.failed', lane: 'health', required: 'required', status: 'failed', duration_ms: 5, description: 'd', log_path: '', detail },
    { check_id: 'health.a.error', lane: 'health', required: 'optional', status: 'error', duration_ms: 5, description: 'd', log_path: '', detail },
    { check_id: 'khala.a.skipped', lane: 'khala', required: 'optional', status: 'skipped', duration_ms: 0, description: 'd', log_path: '', detail },
  ]);
}

describe('junit.xml (SPEC §5)', () => {
  it('validates against the Jenkins JUnit XSD', async () => {
    expect(await validateJunit(renderJunitXml(buildFixture().report))).toEqual({ valid: true, errors: [] });
  });

  it('the validator really enforces the schema (negative control)', async () => {
    const invalid = '<?xml version="1.0"?>\n<testsuites><testsuite name="x" tests="1"><testcase classname="x"/><bogus/></testsuite></testsuites>\n';
    const result = await validateJunit(invalid);
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toMatch(/name.*is required|bogus/);
  });

  it('has one <testsuite> per lane and one <testcase classname=lane name=check_id time=seconds> per check', () => {
    const { report } = buildFixture();
    const xml = renderJunitXml(report);
    const suites = [...xml.matchAll(/<testsuite name="([a-z]+)" tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/g)].map((m) => m.slice(1).join(' '));
    // A NO-GO is also one failing testcase of its own (the decision), so CI reading JUnit goes red whatever blocked.
    expect(suites).toEqual(['decision 1 1 0 0', 'health 2 0 0 0', 'contract 1 0 0 0', 'khala 3 1 0 1', 'credit 1 0 1 0', 'drift 1 0 0 1', 'observability 1 1 0 0', 'parity 1 0 0 0']);
    const cases = [...xml.matchAll(/<testcase classname="([a-z]+)" name="([^"]+)" time="([0-9.]+)"/g)].map((m) => [m[1], m[2], m[3]]);
    expect(cases).toEqual([['decision', 'gate.decision', '0.000'], ...report.checks.map((check) => [check.lane, check.check_id, (check.duration_ms / 1000).toFixed(3)])]);
    expect(xml).toContain('<testsuites name="runtime-gate NO-GO" tests="11" failures="3" errors="1" time="39.505">');
  });

  it('maps failed → <failure message>, error → <error>, skipped → <skipped/>, keeping tabs and newlines in attributes', () => {
    const xml = renderJunitXml(buildFixture().report);
    expect(xml).toContain(
      '<failure message="expected stale_cursor for resume_after seq 41&#9;got update_batch&#10;frame path C:\\runs\\k6 (\\n is not a newline)" type="required">' +
        'expected stale_cursor for resume_after seq 41\tgot update_batch\nframe path C:\\runs\\k6 (\\n is not a newline)\nevidence: logs/khala.k6.budget-boundary.log</failure>',
    );
    expect(xml).toContain('<error message="deadline of 30000 ms exceeded waiting for POST /internal/v1/credit/settle &lt;no response&gt; &amp; retry" type="required">');
    expect(xml).toContain('<skipped>missing_input:db_url</skipped>');
    expect(xml.match(/<failure /g)).toHaveLength(3);
    expect(xml.match(/<failure message="[^"]*" type="NO-GO">/g)).toHaveLength(1);
    expect(xml.match(/<error /g)).toHaveLength(1);
    expect(xml.match(/<skipped/g)).toHaveLength(2);
  });

  it('escapes markup and strips characters XML cannot carry, and stays valid', async () => {
    const detail = 'bad <tag attr="x"> & \'quote\'\u0000\u0001\u0008\u000b\u000c\u001b[31m red\u001b[0m \ud800 lone \uffff end 😀';
    const xml = renderJunitXml(reportWithDetail(detail));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting those characters are gone.
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\uffff]/);
    expect(xml).not.toMatch(/\ud800(?![\udc00-\udfff])/);
    expect(xml).toContain('message="bad &lt;tag attr=&quot;x&quot;&gt; &amp; &apos;quote&apos;[31m red[0m  lone  end 😀"');
    expect(xml).toContain('<skipped>bad &lt;tag attr="x"&gt; &amp; \'quote\'[31m red[0m  lone  end 😀</skipped>');
    expect(await validateJunit(xml)).toEqual({ valid: true, errors: [] });
  });

  it('writes <skipped/> when a skipped check has no detail', async () => {
    const xml = renderJunitXml(reportWithDetail(''));
    expect(xml).toContain('<skipped/>');
    expect(await validateJunit(xml)).toEqual({ valid: true, errors: [] });
  });
});
