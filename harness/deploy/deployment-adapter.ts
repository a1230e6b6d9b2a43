/**
 * Deployment sources for the drift lane's image lock (SPEC §4 "drift", seed 001): the
 * deployed service image, the migrate job image and the latest migrate execution, read
 * from `gcloud run ... --format=json` or `kubectl get ... -o json`.
 */
import type { DeploymentSpec } from '../target.ts';
import { describeCloudRun } from './cloudrun-adapter.ts';
import type { DeploymentFacts } from './deployment-facts.ts';
import { describeKubernetes } from './kubernetes-adapter.ts';
import type { RunCliOptions } from './run-cli.ts';

export interface DeploymentAdapter {
  readonly kind: DeploymentSpec['kind'];
  describe(): Promise<DeploymentFacts>;
}

/** The adapter for a target's `deployment` spec. */
export function createDeploymentAdapter(spec: DeploymentSpec, options: RunCliOptions = {}): DeploymentAdapter {
  switch (spec.kind) {
    case 'cloudrun':
      return { kind: 'cloudrun', describe: () => describeCloudRun(spec, options) };
    case 'kubernetes':
      return { kind: 'kubernetes', describe: () => describeKubernetes(spec, options) };
    default:
      throw new Error(`deployment.kind must be cloudrun or kubernetes, got ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
  }
}

