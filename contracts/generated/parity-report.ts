// generated from contracts/parity-report.schema.json by `npm run generate`; do not edit.
/* eslint-disable */
/**
 * This interface was referenced by `ParityReport`'s JSON-Schema
 * via the `definition` "Sha256".
 */
export type Sha256 = string;
/**
 * This interface was referenced by `ParityReport`'s JSON-Schema
 * via the `definition` "Count".
 */
export type Count = number;

/**
 * What the parity lane compared between a baseline and a candidate, the diffs it found and its gate (SPEC §4 parity, §5). The summary {decision, reason, critical, warning} also appears as report.json's `parity`.
 */
export interface ParityReport {
  schema: "runtime-gate.parity.v1";
  generated_at: string;
  /**
   * scenarios: seeded write scenarios ran on both targets; read_only: existing topics replayed from seq 0 on both; mixed: both (merged shards or topics given alongside writes).
   */
  mode: "scenarios" | "read_only" | "mixed";
  seed: number;
  policy: {
    path: string;
    sha256: Sha256;
  };
  baseline: Identity;
  candidate: Identity;
  comparisons: Comparison[];
  /**
   * The first diffs found (capped: totals.diffs_omitted says how many more were counted).
   */
  diffs: Diff[];
  totals: {
    comparisons: Count;
    events_compared: Count;
    critical: Count;
    warning: Count;
    ignored: Count;
    diffs_stored: Count;
    diffs_omitted: Count;
  };
  gate: {
    decision: "allow" | "block";
    reason: string;
    max_warnings: Count;
    block_on_critical: boolean;
  };
}
/**
 * This interface was referenced by `ParityReport`'s JSON-Schema
 * via the `definition` "Identity".
 */
export interface Identity {
  name: string;
  base_url: string;
  build_sha: string | null;
  service?: string | null;
  authority_write_mode?: string | null;
}
/**
 * This interface was referenced by `ParityReport`'s JSON-Schema
 * via the `definition` "Comparison".
 */
export interface Comparison {
  scenario: string;
  /**
   * The topic replayed (read-only mode), as named on the baseline.
   */
  topic?: string;
  candidate_topic?: string;
  check_id?: string;
  status: "compared" | "skipped";
  reason?: string;
  events_compared: Count;
  baseline_events: Count;
  candidate_events: Count;
  critical: Count;
  warning: Count;
  ignored: Count;
}
/**
 * This interface was referenced by `ParityReport`'s JSON-Schema
 * via the `definition` "Diff".
 */
export interface Diff {
  severity: "critical" | "warning";
  scenario: string;
  component: string;
  key: string;
  index: Count;
  path: string;
  change: "changed" | "added" | "removed";
  baseline: unknown;
  candidate: unknown;
  message: string;
}
