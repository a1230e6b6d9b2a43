/**
 * Checks a Report before anything is written (SPEC §5, §2.6): against
 * contracts/report.schema.json (ajv, compiled once per process), then for the consistency a
 * report folder needs to be evidence: unique check ids, totals and decision that follow from
 * the checks, log paths that point at the logs written beside them.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { contractPaths, readJsonContract } from '../../contracts/contract-files.ts';
import type { Report } from '../../contracts/generated/report.ts';
import { countTotals, decideGate } from './gate-decision.ts';

/**
 * Thrown with every problem found; nothing has been written when it is.
 * @see SPEC §5
 */
export class ReportValidationError extends Error {
  readonly problems: readonly string[];

  constructor(what: string, problems: readonly string[]) {
    super(`${what}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ReportValidationError';
    this.problems = problems;
  }
}

let compiled: ValidateFunction<Report> | undefined;

function reportValidator(): ValidateFunction<Report> {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    compiled = ajv.compile<Report>(readJsonContract(contractPaths.reportSchema));
  }
  return compiled;
}

function describeAjvError(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'report' : `report${error.instancePath.replace(/\//g, '.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')}`;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where}: unknown property ${JSON.stringify((error.params as { additionalProperty: string }).additionalProperty)}`;
    case 'enum':
      return `${where}: ${error.message} (${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
    case 'const':
      return `${where}: must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
    default:
      return `${where}: ${error.message ?? error.keyword}`;
  }
}

/**
 * Validates `value` against contracts/report.schema.json (SPEC §2.6). Returns every
 * violation as `report.checks[3].status: must be equal to one of the allowed values (…)`;
 * empty means valid.
 */
export function validateReportSchema(value: unknown): string[] {
  const validate = reportValidator();
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describeAjvError);
}

/** The log file of a check inside a report folder: `logs/<check_id>.log` (SPEC §5). */
export function logPathFor(checkId: string): string {
  return `logs/${checkId}.log`;
}

/**
 * Consistency a schema cannot express (SPEC §5): unique check ids; `totals` equal to the
 * checks' statuses; `decision` equal to {@link decideGate} on the checks and parity; each
 * check's `log_path` is `logs/<check_id>.log` when `logs` has that check and empty
 * otherwise; no log for an unknown check.
 */
export function checkReportConsistency(report: Report, logs: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [index, check] of report.checks.entries()) {
    if (seen.has(check.check_id)) problems.push(`report.checks[${index}].check_id: duplicate check id ${check.check_id}`);
    seen.add(check.check_id);
    const expected = logs.has(check.check_id) ? logPathFor(check.check_id) : '';
    if (check.log_path !== expected) {
      problems.push(
        expected
          ? `report.checks[${index}].log_path: expected ${JSON.stringify(expected)} (a log is given for ${check.check_id}), got ${JSON.stringify(check.log_path)}`
          : `report.checks[${index}].log_path: ${JSON.stringify(check.log_path)} but no log is given for ${check.check_id} (give one in options.logs, or leave log_path empty)`,
      );
    }
  }
  for (const checkId of logs.keys()) {
    if (!seen.has(checkId)) problems.push(`options.logs: log given for ${JSON.stringify(checkId)}, which is not a check of the report`);
  }
  const totals = countTotals(report.checks);
  for (const status of ['passed', 'failed', 'skipped', 'error'] as const) {
    if (report.totals[status] !== totals[status]) {
      problems.push(`report.totals.${status}: expected ${totals[status]} from the checks, got ${report.totals[status]}`);
    }
  }
  if (report.decision === 'NOT-EVALUATED') {
    // The target was not evaluated (a merge may still hold other shards' checks): evaluation_error decides.
    if (!report.evaluation_error) problems.push('report.decision: NOT-EVALUATED needs evaluation_error (why the target could not be evaluated)');
    return problems;
  }
  if (report.evaluation_error) problems.push(`report.evaluation_error: only a NOT-EVALUATED run has one (decision ${report.decision})`);
  const gate = decideGate(report.checks, report.mode, report.parity, report.lanes_not_run, { shard: report.shard });
  if (report.decision !== gate.decision) {
    problems.push(`report.decision: ${report.decision} contradicts the checks, which give ${gate.decision} (${gate.reason}); compute it with decideGate()`);
  }
  return problems;
}

/**
 * Throws a {@link ReportValidationError} naming every schema violation, or else every
 * consistency problem (SPEC §5); returns the value typed as a Report otherwise.
 */
export function assertValidReport(value: unknown, logs: ReadonlyMap<string, string> = new Map()): Report {
  const schemaProblems = validateReportSchema(value);
  if (schemaProblems.length > 0) {
    throw new ReportValidationError('report does not match contracts/report.schema.json', schemaProblems);
  }
  const report = value as Report;
  const problems = checkReportConsistency(report, logs);
  if (problems.length > 0) throw new ReportValidationError('report is not consistent', problems);
  return report;
}
