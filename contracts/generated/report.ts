// generated from contracts/report.schema.json by `npm run generate`; do not edit.
/* eslint-disable */
/**
 * This interface was referenced by `Report`'s JSON-Schema
 * via the `definition` "Decision".
 */
export type Decision = "GO" | "NO-GO";
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
  rule?: string;
  target?: string;
}
