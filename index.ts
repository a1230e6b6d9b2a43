/**
 * runtime-gate's programmatic API. The CLI (harness/cli/main.ts) is a thin layer over it.
 */
export { type ContractMigration, contractPaths, loadContractMigrations } from './contracts/contract-files.ts';
export { loadOpenApiContract, type OpenApiContract, type OperationSpec } from './contracts/openapi-operations.ts';
export { canonicalJson, payloadHash } from './contracts/payload-hash.ts';
export { createDeploymentAdapter, type DeploymentAdapter, DeploymentError, type DeploymentFacts, findExecutionProblems, findImageLockProblems } from './harness/deploy/index.ts';
export { type MigrationLedger, readMigrationLedger } from './harness/drift/migration-drift.ts';
export { findSchemaDrift, loadExpectedSchemaSnapshot } from './harness/drift/schema-drift.ts';
export { checkEnvFiles, type EnvCheckResult, type EnvFileInput, expectedConfigFingerprint, formatEnvCheck } from './harness/env/index.ts';
export { type Anomaly, type CursorStore, KhalaClient, type KhalaClientOptions, KhalaHandshakeError, MemoryCursorStore } from './harness/khala/khala-client.ts';
export { type DriftLaneOptions, driftLane } from './harness/lanes/drift-lane.ts';
export { envLane } from './harness/lanes/env-lane.ts';
export { parityLane } from './harness/lanes/parity-lane.ts';
export { type RolesLaneOptions, rolesLane } from './harness/lanes/roles-lane.ts';
export { type Comparison, compareLedgers, DiffSink, jsonEqual, type LedgerEntry, type LedgerSource, type ParityDiff } from './harness/parity/compare-ledgers.ts';
export { Normalizer } from './harness/parity/normalize.ts';
export { loadParityPolicy, ParityPolicy, type ParityPolicyFile, parseParityPolicy } from './harness/parity/parity-policy.ts';
export { buildParityReport, decideParityGate, mergeParityReports, type ParityReport, validateParityReport } from './harness/parity/parity-report.ts';
export { evidenceLine, mergeReportFolders, verifyReportFolder, writeReportFolder } from './harness/report/index.ts';
export { applyDbRoles, type DbRolePolicy, loadDbRolePolicy, planDbRoles, type RoleViolation, verifyDbRoles, withRolePrefix } from './harness/roles/index.ts';
export { type RunGateOptions, type RunGateResult, runGate } from './harness/run-gate.ts';
export { PARITY_SCENARIOS } from './harness/scenarios/index.ts';
export { runSmoke, type SmokeOptions, type SmokeResult } from './harness/smoke.ts';
export { resolveTargets, type TargetSpec } from './harness/target.ts';
export { type RuntimeConfig, toRuntimeConfig } from './reference-server/config/runtime-config.ts';
export { computeConfigFingerprint, type EnvViolation, type LoadedRuntimeEnv, loadRuntimeEnv } from './reference-server/config/runtime-env.ts';
export { type EmbeddedDatabase, startEmbeddedDatabase } from './reference-server/db/embedded-database.ts';
export { type MigrateOptions, type MigrateResult, MigrationError, migrate } from './reference-server/db/migrate.ts';
export { readLedgerState } from './reference-server/db/migration-ledger.ts';
export { createPool } from './reference-server/db/pool.ts';
export { diffSchemaSnapshots, readSchemaSnapshot, type SchemaSnapshot } from './reference-server/db/schema-snapshot.ts';
export { serve } from './reference-server/main.ts';
export { createReferenceServer, type ReferenceServer, type ReferenceServerOptions } from './reference-server/server.ts';
