/**
 * The image-lock facts a deployment source reports (SPEC §4 "drift", seed 001) and the
 * rules over them: service image == migrate job image == latest execution image, and
 * the latest execution succeeded.
 */
export interface MigrateExecution {
  /** Execution name (Cloud Run execution, Kubernetes job). */
  name: string;
  image: string | null;
  /** `succeeded`, `failed` or `running`. */
  status: 'succeeded' | 'failed' | 'running';
  /** Why, when it is not `succeeded` (condition messages). */
  detail?: string;
  createdAt: string | null;
}

/** What a deployment source says about the runtime service and its migrate job. */
export interface DeploymentFacts {
  /** e.g. `cloudrun runtime (project openagentsgemini, region us-central1)`. */
  source: string;
  serviceImage: string | null;
  migrateJobImage: string | null;
  /** Newest execution of the migrate job. */
  latestExecution: MigrateExecution;
}

/** Seed 001: service image == migrate job image == latest execution image. */
export function findImageLockProblems(facts: DeploymentFacts): string[] {
  const problems: string[] = [];
  const { serviceImage, migrateJobImage, latestExecution } = facts;
  if (!serviceImage) problems.push(`${facts.source}: the service has no container image`);
  if (!migrateJobImage) problems.push(`${facts.source}: the migrate job has no container image`);
  if (serviceImage && migrateJobImage && serviceImage !== migrateJobImage) {
    problems.push(`migrate job image ${migrateJobImage} differs from service image ${serviceImage}`);
  }
  if (serviceImage && latestExecution.image !== serviceImage) {
    problems.push(`latest migrate execution ${latestExecution.name} ran image ${latestExecution.image ?? '(unknown)'}, the service runs ${serviceImage}`);
  }
  return problems;
}

/** Why the newest migrate execution is not a success, or [] when it succeeded. */
export function findExecutionProblems(facts: DeploymentFacts): string[] {
  const e = facts.latestExecution;
  if (e.status === 'succeeded') return [];
  return [`latest migrate execution ${e.name}${e.createdAt ? ` (created ${e.createdAt})` : ''} is ${e.status}${e.detail ? `: ${e.detail}` : ''}`];
}

/** First container image of a pod-spec-like object, or null. */
export function firstContainerImage(podSpec: unknown): string | null {
  const containers = (podSpec as { containers?: { image?: unknown }[] } | undefined)?.containers;
  const image = Array.isArray(containers) ? containers[0]?.image : undefined;
  return typeof image === 'string' && image !== '' ? image : null;
}

/** Newest item by `metadata.creationTimestamp` (ISO 8601 strings sort as times). */
export function newestByCreation<T extends { metadata?: { creationTimestamp?: string } }>(items: T[]): T | undefined {
  return [...items].sort((a, b) => (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? ''))[0];
}
