/**
 * The lane model: a lane is a named group of checks that needs some inputs besides the
 * candidate's URL. Each lane declares what it needs and whether it is required by default;
 * the run plan (harness/run-gate.ts `planLanes`) is derived from these declarations by one
 * rule for every lane: a lane whose inputs are absent is "not run" with the reason
 * `missing_input:<input>`. Lanes are listed in harness/lanes/registry.ts.
 */
import type { Lane } from '../../contracts/generated/report.ts';
import type { CheckDefinition } from '../check-runner.ts';
import type { TargetSpec } from '../target.ts';

/** What a target's identity endpoint said about it in the preflight (null where it did not answer). */
export interface TargetIdentity {
  build_sha: string | null;
  service: string | null;
  authority_write_mode: string | null;
  payment_backend: string | null;
}

/** What a lane may need besides the candidate's HTTP surface. */
export interface LaneInputs {
  candidate: TargetSpec;
  baseline?: TargetSpec;
  envFiles?: string[];
  maxWarnings?: number;
  /** Parity: whether one critical diff blocks (default true). */
  blockOnCritical?: boolean;
  /** Parity: compare the targets' existing parity_topics only, never write (default false). */
  parityReadOnly?: boolean;
  /** Parity: seed of the scenarios (default 1). */
  paritySeed?: number;
  /** The run's shard (parity: comparing nothing blocks only in an unsharded run). */
  shard?: { index: number; count: number };
  /** What the targets' identity endpoints said in the preflight (read once per run). */
  identities?: { candidate: TargetIdentity; baseline?: TargetIdentity };
  /** Where lanes may write extra artifacts (e.g. parity-report.json); the report folder. */
  artifacts: Map<string, unknown>;
}

/** An input a lane may need beyond the candidate's URL and credentials. */
export type LaneInput = 'baseline' | 'db_url' | 'env_file';

/** Whether the run was given `input` (the one place that says where each input comes from). */
export function hasInput(input: LaneInput, given: { candidate: TargetSpec; baseline?: TargetSpec; envFiles?: readonly string[] }): boolean {
  switch (input) {
    case 'baseline':
      return given.baseline !== undefined;
    case 'db_url':
      return Boolean(given.candidate.db_url);
    case 'env_file':
      return (given.envFiles?.length ?? 0) > 0;
  }
}

export interface LaneDefinition {
  id: Lane;
  /** Inputs without which the lane cannot run; none for lanes that need only the target's URL. */
  needs: readonly LaneInput[];
  /**
   * Required in every run. A lane that is not required by default becomes required when
   * its inputs are given (the operator asked for it) or when the operator names it.
   */
  requiredByDefault: boolean;
  /** The lane's checks for this run's inputs. */
  checks(inputs: LaneInputs): CheckDefinition[] | Promise<CheckDefinition[]>;
}
