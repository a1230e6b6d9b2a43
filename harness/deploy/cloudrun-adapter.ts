/**
 * Cloud Run source of the image-lock facts, as seed 001's drift check reads them:
 * `gcloud run services describe`, `gcloud run jobs describe` and
 * `gcloud run jobs executions list`, all with `--format=json`.
 */
import type { DeploymentSpec } from '../target.ts';
import { type DeploymentFacts, firstContainerImage, type MigrateExecution, newestByCreation } from './deployment-facts.ts';
import { DeploymentError, type RunCliOptions, runJsonCli } from './run-cli.ts';

type CloudRunSpec = Extract<DeploymentSpec, { kind: 'cloudrun' }>;

interface Condition {
  type?: string;
  status?: string;
  message?: string;
  reason?: string;
}

interface CloudRunExecution {
  metadata?: { name?: string; creationTimestamp?: string };
  spec?: { template?: { spec?: unknown } };
  status?: { conditions?: Condition[]; succeededCount?: number; failedCount?: number; completionTime?: string };
}

export async function describeCloudRun(spec: CloudRunSpec, options: RunCliOptions = {}): Promise<DeploymentFacts> {
  const scope = ['--project', spec.project, '--region', spec.region, '--format=json'];
  const service = (await runJsonCli('gcloud', ['run', 'services', 'describe', spec.service, ...scope], options)) as { spec?: { template?: { spec?: unknown } } };
  const job = (await runJsonCli('gcloud', ['run', 'jobs', 'describe', spec.migrate_job, ...scope], options)) as { spec?: { template?: { spec?: { template?: { spec?: unknown } } } } };
  const executions = await runJsonCli('gcloud', ['run', 'jobs', 'executions', 'list', '--job', spec.migrate_job, ...scope], options);
  const source = `cloudrun service ${spec.service} / job ${spec.migrate_job} (project ${spec.project}, region ${spec.region})`;
  if (!Array.isArray(executions)) throw new DeploymentError('bad_output', `gcloud run jobs executions list --job ${spec.migrate_job}: expected a JSON array`);
  const latest = newestByCreation(executions as CloudRunExecution[]);
  if (!latest) throw new DeploymentError('no_executions', `${source}: the migrate job has no executions; it never ran`);
  return {
    source,
    serviceImage: firstContainerImage(service?.spec?.template?.spec),
    migrateJobImage: firstContainerImage(job?.spec?.template?.spec?.template?.spec),
    latestExecution: toExecution(latest),
  };
}

/** Cloud Run executions finish with condition `Completed` True (success) or False (failure). */
function toExecution(execution: CloudRunExecution): MigrateExecution {
  const completed = execution.status?.conditions?.find((c) => c.type === 'Completed');
  let status: MigrateExecution['status'] = 'running';
  if (completed?.status === 'True') status = 'succeeded';
  else if (completed?.status === 'False' || (execution.status?.failedCount ?? 0) > 0) status = 'failed';
  const detail = status === 'succeeded' ? undefined : [completed?.reason, completed?.message].filter(Boolean).join(': ') || undefined;
  return {
    name: execution.metadata?.name ?? '(unnamed)',
    image: firstContainerImage(execution.spec?.template?.spec),
    status,
    ...(detail ? { detail } : {}),
    createdAt: execution.metadata?.creationTimestamp ?? null,
  };
}
