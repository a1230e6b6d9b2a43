/**
 * The drift lane's deployment checks inside a whole gate run: with a `deployment` source
 * they are required, so image drift (either adapter), a failed migrate execution or a
 * missing CLI is a NO-GO naming it; matching images pass. The fake gcloud/kubectl are put
 * first on PATH for the run only (runGate offers no per-run CLI environment), and PATH is
 * restored afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentSpec } from '../../harness/target.ts';
import { expectCheckFails, type GateFixture, type GateRun, startGateFixture } from '../harness/gate-fixture.ts';
import { cloudRunAnswers, createFakeDeployCli, type FakeAnswer, kubernetesAnswers, recordedAnswer, withImage } from './fake-deploy-cli.ts';

const OLD = 'us-central1-docker.pkg.dev/openagentsgemini/openagents-runtime/runtime-rust:b46b406';
const cloudrun: DeploymentSpec = { kind: 'cloudrun', project: 'openagentsgemini', region: 'us-central1', service: 'runtime', migrate_job: 'runtime-migrate' };
const kubernetes: DeploymentSpec = { kind: 'kubernetes', namespace: 'runtime-prod', deployment: 'runtime', migrate_job: 'runtime-migrate' };

let fixture: GateFixture;
beforeAll(async () => {
  fixture = await startGateFixture('drift_deployment');
});
afterAll(async () => {
  await fixture?.close();
});

async function runWithFakeCli(deployment: DeploymentSpec, answers: Record<string, FakeAnswer>, tools?: ('gcloud' | 'kubectl')[]): Promise<GateRun> {
  const cli = createFakeDeployCli(answers, tools);
  const saved = { PATH: process.env.PATH, FAKE_CLI_DIR: process.env.FAKE_CLI_DIR };
  Object.assign(process.env, cli.env);
  try {
    return await fixture.runFaulty([], { lanes: ['drift'], target: { db_url: fixture.db.url, deployment } });
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    cli.remove();
  }
}

describe('drift lane with a deployment source', () => {
  it.each([
    ['cloudrun', cloudrun, cloudRunAnswers()],
    ['kubernetes', kubernetes, kubernetesAnswers()],
  ] as const)('%s: matching images and a succeeded execution pass, as required checks', async (_name, deployment, answers) => {
    const run = await runWithFakeCli(deployment, answers);
    for (const id of ['drift.deployment.image-lock', 'drift.deployment.latest-execution']) {
      expect(run.check(id), `${id}: ${run.check(id).detail}`).toMatchObject({ status: 'passed', required: 'required' });
    }
    expect(run.report.decision).toBe('GO');
  });

  it('cloudrun: a migrate job pinned to an older image is a NO-GO naming both images', async () => {
    const job = withImage(recordedAnswer('cloudrun', 'jobs-describe'), ['spec', 'template', 'spec', 'template', 'spec'], OLD);
    const run = await runWithFakeCli(cloudrun, cloudRunAnswers({ 'jobs-describe': job }));
    expectCheckFails(run, 'drift.deployment.image-lock', /migrate job image \S+:b46b406 differs from service image \S+:3f74f77/);
  });

  it('kubernetes: a migrate job on an older image than the deployment is a NO-GO', async () => {
    const job = withImage(recordedAnswer('kubernetes', 'job'), ['spec', 'template', 'spec'], OLD);
    const run = await runWithFakeCli(kubernetes, kubernetesAnswers({ job }));
    expectCheckFails(run, 'drift.deployment.image-lock', /migrate job image \S+:b46b406 differs from service image \S+:3f74f77/);
  });

  it('cloudrun: a failed latest execution is a NO-GO', async () => {
    const executions = recordedAnswer('cloudrun', 'executions-list');
    executions[0].status = { failedCount: 1, conditions: [{ type: 'Completed', status: 'False', reason: 'NonZeroExitCode', message: 'Task failed with exit code 1.' }] };
    const run = await runWithFakeCli(cloudrun, cloudRunAnswers({ 'executions-list': executions }));
    expectCheckFails(run, 'drift.deployment.latest-execution', /runtime-migrate-q7m2d .* is failed: NonZeroExitCode/);
  });

  it('a missing CLI is a failed check that says so, not an error or a pass', async () => {
    const run = await runWithFakeCli(kubernetes, {}, ['gcloud']);
    expectCheckFails(run, 'drift.deployment.image-lock', /kubernetes: cli_missing: kubectl is not installed or not on PATH/);
    expect(run.check('drift.deployment.image-lock').status).toBe('failed');
    expect(run.check('drift.deployment.latest-execution').status).toBe('failed');
  });
});
