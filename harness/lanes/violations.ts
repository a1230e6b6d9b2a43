/**
 * Violations in full: a check that finds several records every one with ctx.evidence
 * (harness/check-runner.ts: each line goes to the check's log and to `evidence` in
 * report.json, contracts/report.schema.json `Check.evidence`), and its detail names only
 * the first few and the count.
 */
import { type CheckContext, expectThat } from '../check-runner.ts';

/** How many violations a check's detail names; the evidence has every one. */
export const DETAIL_VIOLATIONS = 3;

/** `first; second; third (and N more: every one is in the evidence)`. */
export function summarizeViolations(problems: readonly string[]): string {
  const named = problems.slice(0, DETAIL_VIOLATIONS).join('; ');
  const more = problems.length - DETAIL_VIOLATIONS;
  return more > 0 ? `${named} (and ${more} more: every one is in the evidence)` : named;
}

/** Fails the check (`headline: first few`) when there are violations, with every one in the evidence. */
export function failOnViolations(ctx: Pick<CheckContext, 'evidence'>, problems: readonly string[], headline: string): void {
  if (problems.length === 0) return;
  ctx.evidence(problems);
  expectThat(false, `${headline}: ${summarizeViolations(problems)}`);
}
