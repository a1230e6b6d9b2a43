/**
 * runtime-gate's programmatic API. The CLI (harness/cli/main.ts) is a thin layer over it.
 */
export { contractPaths, loadContractMigrations, type ContractMigration } from './contracts/contract-files.ts';
export { loadOpenApiContract, type OpenApiContract, type OperationSpec } from './contracts/openapi-operations.ts';
export { runSmoke, type SmokeOptions, type SmokeResult } from './harness/smoke.ts';
export { payloadHash, canonicalJson } from './contracts/payload-hash.ts';
export { toRuntimeConfig, type RuntimeConfig } from './reference-server/config/runtime-config.ts';
export { computeConfigFingerprint, loadRuntimeEnv, type EnvViolation, type LoadedRuntimeEnv } from './reference-server/config/runtime-env.ts';
export { startEmbeddedDatabase, type EmbeddedDatabase } from './reference-server/db/embedded-database.ts';
export { MigrationError, migrate, type MigrateOptions, type MigrateResult } from './reference-server/db/migrate.ts';
export { readLedgerState } from './reference-server/db/migration-ledger.ts';
export { createPool } from './reference-server/db/pool.ts';
export { diffSchemaSnapshots, readSchemaSnapshot, type SchemaSnapshot } from './reference-server/db/schema-snapshot.ts';
export { serve } from './reference-server/main.ts';
export { createReferenceServer, type ReferenceServer, type ReferenceServerOptions } from './reference-server/server.ts';
export { runGate, type RunGateOptions, type RunGateResult } from './harness/run-gate.ts';
export { KhalaClient, KhalaHandshakeError, MemoryCursorStore, type Anomaly, type CursorStore, type KhalaClientOptions } from './harness/khala/khala-client.ts';
export { evidenceLine, mergeReportFolders, verifyReportFolder, writeReportFolder } from './harness/report/index.ts';
export { resolveTargets, type TargetSpec } from './harness/target.ts';
export { type DriftLaneOptions, driftLane } from './harness/lanes/drift-lane.ts';
export { envLane } from './harness/lanes/env-lane.ts';
export { type RolesLaneOptions, rolesLane } from './harness/lanes/roles-lane.ts';
export { createDeploymentAdapter, type DeploymentAdapter, DeploymentError, type DeploymentFacts, findExecutionProblems, findImageLockProblems } from './harness/deploy/index.ts';
export { type MigrationLedger, readMigrationLedger } from './harness/drift/migration-drift.ts';
export { findSchemaDrift, loadExpectedSchemaSnapshot } from './harness/drift/schema-drift.ts';
export { applyDbRoles, type DbRolePolicy, loadDbRolePolicy, planDbRoles, type RoleViolation, verifyDbRoles, withRolePrefix } from './harness/roles/index.ts';
export { checkEnvFiles, type EnvCheckResult, type EnvFileInput, expectedConfigFingerprint, formatEnvCheck } from './harness/env/index.ts';
