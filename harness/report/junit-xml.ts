/**
 * junit.xml of a report folder (SPEC §0 "release gating in CI (exit code + JUnit)", §5), in
 * the Ant/Jenkins JUnit format CI servers read: one `<testsuite>` per lane, one
 * `<testcase classname="<lane>" name="<check_id>">` per check.
 */
import type { Check, Report } from '../../contracts/generated/report.ts';
import { summarizeLanes } from './lane-summary.ts';
import { escapeXmlAttribute, escapeXmlText } from './markup-escape.ts';

/** Milliseconds as JUnit seconds (`0.125`). */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function attributes(pairs: Record<string, string | number>): string {
  return Object.entries(pairs)
    .map(([name, value]) => ` ${name}="${escapeXmlAttribute(String(value))}"`)
    .join('');
}

/** Body of a `<failure>`/`<error>`: the detail, then where the evidence is. */
function failureBody(check: Check): string {
  const parts = [check.detail];
  if (check.log_path) parts.push(`evidence: ${check.log_path}`);
  return escapeXmlText(parts.filter((part) => part !== '').join('\n'));
}

function renderTestcase(check: Check): string {
  const open = `    <testcase${attributes({ classname: check.lane, name: check.check_id, time: seconds(check.duration_ms) })}`;
  switch (check.status) {
    case 'passed':
      return `${open}/>`;
    case 'failed':
      return `${open}>\n      <failure${attributes({ message: check.detail, type: check.required })}>${failureBody(check)}</failure>\n    </testcase>`;
    case 'error':
      return `${open}>\n      <error${attributes({ message: check.detail, type: check.required })}>${failureBody(check)}</error>\n    </testcase>`;
    case 'skipped':
      // The Jenkins junit-4 schema types <skipped> as text only (no attributes): the reason goes inside.
      return check.detail
        ? `${open}>\n      <skipped>${escapeXmlText(check.detail)}</skipped>\n    </testcase>`
        : `${open}>\n      <skipped/>\n    </testcase>`;
  }
}

/**
 * junit.xml text (SPEC §5): `failed` → `<failure message=…>`, `error` → `<error>`,
 * `skipped` → `<skipped/>` (with the detail as text when there is one); `type` is
 * `required|optional`; time in seconds. Values are XML-escaped and characters XML 1.0
 * cannot carry (control characters) are stripped.
 */
export function renderJunitXml(report: Report): string {
  const lanes = summarizeLanes(report).filter((lane) => lane.checks.length > 0);
  const totalTime = lanes.reduce((sum, lane) => sum + lane.duration_ms, 0);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const evaluation = report.evaluation_error;
  // A run that could not evaluate its target is one error in CI, never an empty green suite;
  // a NO-GO is one failure (the decision), even when no check failed (a required check
  // skipped, a required lane not run, parity blocking), so a CI reading JUnit goes red.
  const preflightErrors = evaluation ? 1 : 0;
  const decisionFailures = report.decision === 'NO-GO' ? 1 : 0;
  lines.push(
    `<testsuites${attributes({
      name: `runtime-gate ${report.decision}`,
      tests: report.checks.length + preflightErrors + decisionFailures,
      failures: report.totals.failed + decisionFailures,
      errors: report.totals.error + preflightErrors,
      time: seconds(totalTime),
    })}>`,
  );
  if (evaluation) {
    lines.push(`  <testsuite${attributes({ name: 'preflight', tests: 1, failures: 0, errors: 1, skipped: 0, time: '0.000', timestamp: report.started_at })}>`);
    lines.push(`    <testcase${attributes({ classname: 'preflight', name: `preflight.${evaluation.cause}`, time: '0.000' })}>`);
    lines.push(`      <error${attributes({ message: evaluation.message, type: evaluation.cause })}/>`);
    lines.push('    </testcase>', '  </testsuite>');
  }
  if (decisionFailures) {
    const reason = report.decision_reason ?? 'NO-GO';
    lines.push(`  <testsuite${attributes({ name: 'decision', tests: 1, failures: 1, errors: 0, skipped: 0, time: '0.000', timestamp: report.started_at })}>`);
    lines.push(`    <testcase${attributes({ classname: 'decision', name: 'gate.decision', time: '0.000' })}>`);
    lines.push(`      <failure${attributes({ message: reason, type: 'NO-GO' })}>${escapeXmlText(reason)}</failure>`);
    lines.push('    </testcase>', '  </testsuite>');
  }
  for (const lane of lanes) {
    lines.push(
      `  <testsuite${attributes({
        name: lane.lane,
        tests: lane.checks.length,
        failures: lane.counts.failed,
        errors: lane.counts.error,
        skipped: lane.counts.skipped,
        time: seconds(lane.duration_ms),
        timestamp: report.started_at,
      })}>`,
    );
    for (const check of lane.checks) lines.push(renderTestcase(check));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
