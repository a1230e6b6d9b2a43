// generated from contracts/report.schema.json by `npm run generate`; do not edit.
/* eslint-disable */
/**
 * GO: every required check passed (and parity allows). NO-GO: the target broke a rule. NOT-EVALUATED: a target could not be evaluated (unreachable, credentials refused, never ready); see evaluation_error.
 *
 * This interface was referenced by `Report`'s JSON-Schema
 * via the `definition` "Decision".
 */
export type Decision = "GO" | "NO-GO" | "NOT-EVALUATED";
/**
 * This interface was referenced by `Report`'s JSON-Schema
 * via the `definition` "Sha256".
 */
export type Sha256 = string;
/**
 * This interface was referenced by `Report`'s JSON-Schema
 * via the `definition` "Lane".
 */
export type Lane = "health" | "contract" | "khala" | "parity" | "credit" | "drift" | "roles" | "env" | "observability";
/**
 * This interface was referenced by `Report`'s JSON-Schema
 * via the `definition` "Status".
 */
export type Status = "passed" | "failed" | "skipped" | "error";

/**
 * report.json written by `runtime-gate validate` (SPEC §5). One file per run folder; the checks carry the same columns as results.tsv.
 */
export interface Report {
  schema: "runtime-gate.report.v1";
  run_id?: string;
  decision: Decision;
  decision_reason?: string;
  mode: "gate" | "baseline";
  shard: {
    index: number;
    count: number;
  };
  harness_version: string;
  /**
   * sha256 (lowercase hex) of each contract file, keyed by path relative to the package root.
   */
  contract_digests: {
    [k: string]: Sha256;
  };
  targets: Target[];
  lanes?: {
    lane: Lane;
    required: boolean;
    status: Status;
    detail?: string;
  }[];
  checks: Check[];
  totals: {
    passed: number;
    failed: number;
    skipped: number;
    error: number;
  };
  /**
   * Summary of parity-report.json when parity ran.
   */
  parity?: {
    decision: "allow" | "block";
    reason?: string;
    critical: number;
    warning: number;
  };
  started_at: string;
  finished_at: string;
  /**
   * Why a NOT-EVALUATED run could not evaluate a target: the cause and one line that names the flag to fix (CLI exit 3).
   */
  evaluation_error?: {
    cause: "unreachable" | "credentials_refused" | "not_ready";
    target: string;
    message: string;
  };
  /**
   * The --checks patterns of a run that ran only some checks; absent when every check of the planned lanes ran. Shards with different selections are never merged.
   *
   * @minItems 1
   */
  check_selection?: [string, ...string[]];
  /**
   * Every lane that did not run, with the reason (e.g. missing_input:db_url). A GO with lanes not run says nothing about those lanes.
   */
  lanes_not_run?: {
    lane: Lane;
    required: boolean;
    reason: string;
  }[];
}
/**
 * This interface was referenced by `Report`'s JSON-Schema
 * via the `definition` "Target".
 */
export interface Target {
  role: "candidate" | "baseline";
  name: string;
  base_url: string;
  build_sha?: string | null;
  expected_build_sha?: string | null;
  service?: string | null;
  authority_write_mode?: string | null;
  profile?: "test" | "live";
}
/**
 * This interface was referenced by `Report`'s JSON-Schema
 * via the `definition` "Check".
 */
export interface Check {
  check_id: string;
  lane: Lane;
  required: "required" | "optional";
  status: Status;
  duration_ms: number;
  description: string;
  log_path: string;
  detail: string;
  /**
   * Every violation the check found, one line each: the detail may summarize, this list is never cut.
   */
  evidence?: string[];
  rule?: string;
  target?: string;
}
