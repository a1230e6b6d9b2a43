// generated from contracts/parity-policy.schema.json by `npm run generate`; do not edit.
/* eslint-disable */
/**
 * This interface was referenced by `ParityPolicyFile`'s JSON-Schema
 * via the `definition` "Severity".
 */
export type Severity = "critical" | "warning" | "ignore";

/**
 * How the parity lane normalizes observations and classifies diffs (SPEC §4 parity). Rules are tried in order; the first rule whose component, path glob and change match gives the severity; no match gives default_severity.
 */
export interface ParityPolicyFile {
  $schema?: string;
  schema: "runtime-gate.parity-policy.v1";
  description?: string;
  default_severity: Severity;
  normalize: {
    /**
     * Object keys whose values vary between runs (timestamps, durations, tokens): the value is replaced by "$volatile" (presence is still compared).
     */
    volatile_keys: string[];
    /**
     * Object keys whose string values are generated ids: aliased $id1, $id2, ... in order of appearance.
     */
    id_keys: string[];
    /**
     * Regular expressions (JavaScript, no flags) for generated ids anywhere inside strings (e.g. a run id inside a topic name); each match is aliased.
     */
    id_patterns: string[];
  };
  rules: Rule[];
}
/**
 * This interface was referenced by `ParityPolicyFile`'s JSON-Schema
 * via the `definition` "Rule".
 */
export interface Rule {
  /**
   * A component name (runs, credit, khala, sync, scenario) or "*" for any.
   */
  component: string;
  /**
   * A JSON-pointer glob inside the observation: "*" matches one segment (or part of one), "**" any number of segments; "" is the observation itself (missing, extra or different-in-kind entries).
   */
  path: string;
  /**
   * Only diffs of this kind: a value present in both but different, only in the candidate (added) or only in the baseline (removed). Any kind when omitted.
   */
  change?: "changed" | "added" | "removed";
  severity: Severity;
  why: string;
}
