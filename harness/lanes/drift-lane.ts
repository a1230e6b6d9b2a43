/**
 * The drift lane (SPEC §4 "drift", seed 001): with the target's `db_url`, one check per
 * invariant — every contract migration applied, none unknown, checksums equal, latest
 * execution succeeded, the build that last migrated is the running (and expected) build,
 * the live schema equals contracts/generated/schema-snapshot.json. With a `deployment`
 * source, the image lock read from gcloud/kubectl: service image == migrate job image ==
 * latest execution image, and that execution succeeded.
 */
import type { ContractMigration } from '../../contracts/contract-files.ts';
import { loadContractMigrations } from '../../contracts/contract-files.ts';
import { type CheckContext, type CheckDefinition, CheckSkip, expectThat, fail } from '../check-runner.ts';
import { createDeploymentAdapter } from '../deploy/deployment-adapter.ts';
import { type DeploymentFacts, findExecutionProblems, findImageLockProblems } from '../deploy/deployment-facts.ts';
import { DeploymentError, type RunCliOptions } from '../deploy/run-cli.ts';
import {
  findBuildShaMismatches,
  findChecksumMismatches,
  findLatestExecutionProblems,
  findMissingMigrations,
  findUnknownMigrations,
  type MigrationLedger,
  readMigrationLedger,
} from '../drift/migration-drift.ts';
import { findSchemaDrift } from '../drift/schema-drift.ts';
import { withDatabase } from '../drift/with-database.ts';
import type { LaneInputs } from './lane.ts';

export interface DriftLaneOptions {
  /** Environment and timeout of the gcloud/kubectl processes (default process.env, 30 s). */
  deploy?: RunCliOptions;
  /** Default: contracts/migrations. */
  migrations?: ContractMigration[];
}

function dbUrlOf(ctx: CheckContext): string {
  if (!ctx.target.db_url) throw new CheckSkip('missing_input:db_url');
  return ctx.target.db_url;
}

/** Reads the target's migration ledger (once per lane: every drift check judges the same facts). */
function ledgerReader(): (ctx: CheckContext) => Promise<MigrationLedger> {
  let read: Promise<MigrationLedger> | undefined;
  return async (ctx) => {
    read ??= withDatabase(dbUrlOf(ctx), readMigrationLedger, { signal: ctx.signal });
    const ledger = await read;
    ctx.log(`ledger: ${ledger.applied.map((m) => `${m.version}@${m.checksum.slice(0, 12)} by ${m.applied_by_build_sha}`).join(', ') || '(empty)'}`);
    const e = ledger.latestExecution;
    ctx.log(`latest execution: ${e ? `${e.execution_id} build=${e.build_sha} status=${e.status} started=${e.started_at.toISOString()}` : '(none)'}`);
    return ledger;
  };
}

function expectNone(differences: string[], what: string): void {
  expectThat(differences.length === 0, `${differences.length} ${what}: ${differences.join('; ')}`);
}

export function driftLane(inputs?: Pick<LaneInputs, 'candidate'>, options: DriftLaneOptions = {}): CheckDefinition[] {
  let contractMigrations: ContractMigration[] | undefined;
  const migrations = () => (contractMigrations ??= options.migrations ?? loadContractMigrations());
  const ledgerOf = ledgerReader();
  const deployment = inputs?.candidate.deployment;
  // Both deployment checks read the same facts; ask the CLI once per run.
  let facts: Promise<DeploymentFacts> | undefined;
  const deploymentFacts = async (ctx: CheckContext): Promise<DeploymentFacts> => {
    const spec = ctx.target.deployment;
    if (!spec) throw new CheckSkip('missing_input:deployment');
    facts ??= createDeploymentAdapter(spec, options.deploy).describe();
    try {
      const result = await facts;
      ctx.log(`${result.source}: service=${result.serviceImage} job=${result.migrateJobImage} latest execution ${result.latestExecution.name}=${result.latestExecution.image} (${result.latestExecution.status})`);
      return result;
    } catch (error) {
      // A source that cannot answer (CLI missing, not logged in, no executions) fails the check clearly.
      if (error instanceof DeploymentError) fail(`${spec.kind}: ${error.code}: ${error.message}`);
      throw error;
    }
  };
  return [
    {
      id: 'drift.migrations.all-applied',
      lane: 'drift',
      description: 'every migration in contracts/migrations is in runtime.schema_migrations',
      async run(ctx) {
        const ledger = await ledgerOf(ctx);
        expectNone(findMissingMigrations(ledger, migrations()), 'contract migration(s) missing from the ledger');
        return `${ledger.applied.length} applied, latest ${ledger.applied.at(-1)?.version}`;
      },
    },
    {
      id: 'drift.migrations.none-unknown',
      lane: 'drift',
      description: 'runtime.schema_migrations has no version that contracts/migrations lacks',
      async run(ctx) {
        expectNone(findUnknownMigrations(await ledgerOf(ctx), migrations()), 'unknown migration(s) in the ledger');
      },
    },
    {
      id: 'drift.migrations.checksums',
      lane: 'drift',
      description: 'each applied migration checksum equals the sha256 of its contract file',
      async run(ctx) {
        expectNone(findChecksumMismatches(await ledgerOf(ctx), migrations()), 'checksum mismatch(es)');
      },
    },
    {
      id: 'drift.executions.latest-succeeded',
      lane: 'drift',
      description: 'the latest runtime.migration_executions row succeeded',
      async run(ctx) {
        const ledger = await ledgerOf(ctx);
        expectNone(findLatestExecutionProblems(ledger), 'problem(s) with the latest migration execution');
        return `${ledger.latestExecution?.execution_id} succeeded (build ${ledger.latestExecution?.build_sha})`;
      },
    },
    {
      id: 'drift.image-lock.build-sha',
      lane: 'drift',
      description: 'the build that last migrated equals the running build_sha (and expected_build_sha when given)',
      async run(ctx) {
        const ledger = await ledgerOf(ctx);
        const health = await ctx.http.request({ method: 'GET', path: '/internal/v1/health' });
        const running = health.status === 200 && typeof health.json?.build_sha === 'string' ? (health.json.build_sha as string) : null;
        expectNone(findBuildShaMismatches(ledger, running, ctx.target.expected_build_sha), 'build sha mismatch(es)');
        return `last migrated by ${ledger.latestExecution?.build_sha}, running ${running}${ctx.target.expected_build_sha ? ', as expected' : ''}`;
      },
    },
    {
      id: 'drift.schema.snapshot',
      lane: 'drift',
      description: 'the live schema runtime equals contracts/generated/schema-snapshot.json (tables, columns, indexes, constraints)',
      async run(ctx) {
        const differences = await withDatabase(dbUrlOf(ctx), (client) => findSchemaDrift(client), { signal: ctx.signal });
        for (const d of differences) ctx.log(`schema difference: ${d}`);
        expectNone(differences, 'schema difference(s) from contracts/generated/schema-snapshot.json');
      },
    },
    {
      id: 'drift.deployment.image-lock',
      lane: 'drift',
      description: 'deployment: service image == migrate job image == latest migrate execution image (seed 001)',
      optional: !deployment,
      async run(ctx) {
        const result = await deploymentFacts(ctx);
        expectNone(findImageLockProblems(result), 'image drift(s)');
        return `${result.source}: ${result.serviceImage}`;
      },
    },
    {
      id: 'drift.deployment.latest-execution',
      lane: 'drift',
      description: 'deployment: the latest migrate job execution succeeded',
      optional: !deployment,
      async run(ctx) {
        const result = await deploymentFacts(ctx);
        expectNone(findExecutionProblems(result), 'problem(s) with the latest migrate execution');
        return `${result.latestExecution.name} succeeded`;
      },
    },
  ];
}
