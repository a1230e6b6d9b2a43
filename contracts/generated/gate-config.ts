// generated from contracts/gate-config.schema.json by `npm run generate`; do not edit.
/* eslint-disable */
/**
 * A secret value, or a reference to one: `env:VAR` or `file:PATH`.
 *
 * This interface was referenced by `GateConfigFile`'s JSON-Schema
 * via the `definition` "Secret".
 */
export type Secret = string;
/**
 * This interface was referenced by `GateConfigFile`'s JSON-Schema
 * via the `definition` "Deployment".
 */
export type Deployment =
  | {
      kind: "cloudrun";
      project: string;
      region: string;
      service: string;
      migrate_job: string;
    }
  | {
      kind: "kubernetes";
      namespace: string;
      deployment: string;
      migrate_job: string;
      context?: string;
    };
/**
 * This interface was referenced by `GateConfigFile`'s JSON-Schema
 * via the `definition` "Lane".
 */
export type Lane = "health" | "contract" | "khala" | "parity" | "credit" | "drift" | "roles" | "env" | "observability";

/**
 * The `runtime-gate validate --config FILE` file. Flags override RUNTIME_GATE_* variables, which override this file. Every object is closed: an unknown key is an error naming its JSON path, never silently ignored. Secret fields may be `env:VAR` or `file:PATH` references.
 */
export interface GateConfigFile {
  /**
   * Optional pointer to this schema, for editors.
   */
  $schema?: string;
  targets?: {
    candidate?: Target;
    baseline?: Target;
  };
  /**
   * Only these lanes run (and each is required).
   */
  lanes?: Lane[];
  /**
   * Lanes that must run on top of the default required ones: one that cannot run for lack of input is NO-GO.
   */
  required_lanes?: Lane[];
  /**
   * Check ids whose failure does not block (policy).
   */
  optional_checks?: string[];
  mode?: "gate" | "baseline";
  /**
   * Parity: warning diffs allowed before parity blocks (default 0).
   */
  max_warnings?: number;
  /**
   * Parity: whether one critical diff blocks (default true).
   */
  block_on_critical?: boolean;
}
/**
 * This interface was referenced by `GateConfigFile`'s JSON-Schema
 * via the `definition` "Target".
 */
export interface Target {
  name?: string;
  /**
   * http(s) URL of the target's HTTP API.
   */
  base_url?: string;
  /**
   * The Khala WebSocket URL, when it is not <base_url>/internal/v1/khala/ws.
   */
  ws_url?: string;
  internal_token?: Secret;
  sync_signing_key?: Secret;
  sync_token?: Secret;
  db_url?: Secret;
  expected_build_sha?: string;
  /**
   * Other instances of the deployment (K9).
   */
  node_urls?: string[];
  /**
   * Extra request headers (values are redacted from reports).
   */
  headers?: {
    [k: string]: string;
  };
  sync_token_issuer?: string;
  sync_token_audience?: string;
  profile?: "test" | "live";
  env_file?: string;
  deployment?: Deployment;
  khala_threat?: KhalaThreatInputs;
  parity_topics?: (
    | string
    | {
        topic: string;
        owner?: string;
      }
  )[];
}
/**
 * This interface was referenced by `GateConfigFile`'s JSON-Schema
 * via the `definition` "KhalaThreatInputs".
 */
export interface KhalaThreatInputs {
  allowed_origin?: string;
  revoked_jti?: string;
  /**
   * A ready-made token per deny reason code (secrets).
   */
  tokens?: {
    [k: string]: Secret;
  };
}
