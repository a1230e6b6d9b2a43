/**
 * Kubernetes source of the image-lock facts: `kubectl get deployment` (the service) and
 * `kubectl get job` (the migrate job, which in Kubernetes is itself the execution: its
 * pod template is immutable and its status says whether the run completed or failed).
 */
import type { DeploymentSpec } from '../target.ts';
import { type DeploymentFacts, firstContainerImage, type MigrateExecution } from './deployment-facts.ts';
import { DeploymentError, type RunCliOptions, runJsonCli } from './run-cli.ts';

type KubernetesSpec = Extract<DeploymentSpec, { kind: 'kubernetes' }>;

interface KubernetesJob {
  metadata?: { name?: string; creationTimestamp?: string };
  spec?: { template?: { spec?: unknown } };
  status?: { conditions?: { type?: string; status?: string; reason?: string; message?: string }[]; startTime?: string; active?: number; succeeded?: number; failed?: number };
}

export async function describeKubernetes(spec: KubernetesSpec, options: RunCliOptions = {}): Promise<DeploymentFacts> {
  const scope = ['-n', spec.namespace, '-o', 'json', ...(spec.context ? ['--context', spec.context] : [])];
  const deployment = (await runJsonCli('kubectl', ['get', 'deployment', spec.deployment, ...scope], options)) as { spec?: { template?: { spec?: unknown } } };
  const job = (await runJsonCli('kubectl', ['get', 'job', spec.migrate_job, ...scope], options)) as KubernetesJob;
  const source = `kubernetes deployment ${spec.deployment} / job ${spec.migrate_job} (namespace ${spec.namespace}${spec.context ? `, context ${spec.context}` : ''})`;
  if (!job?.status?.startTime) throw new DeploymentError('no_executions', `${source}: the migrate job has not started; it never ran`);
  const jobImage = firstContainerImage(job.spec?.template?.spec);
  return {
    source,
    serviceImage: firstContainerImage(deployment?.spec?.template?.spec),
    migrateJobImage: jobImage,
    latestExecution: toExecution(job, jobImage),
  };
}

function toExecution(job: KubernetesJob, image: string | null): MigrateExecution {
  const conditions = job.status?.conditions ?? [];
  const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  const status: MigrateExecution['status'] = complete ? 'succeeded' : failed ? 'failed' : 'running';
  const detail = failed ? [failed.reason, failed.message].filter(Boolean).join(': ') : status === 'running' ? `active=${job.status?.active ?? 0}` : '';
  return {
    name: job.metadata?.name ?? '(unnamed)',
    image,
    status,
    ...(detail ? { detail } : {}),
    createdAt: job.status?.startTime ?? job.metadata?.creationTimestamp ?? null,
  };
}
