/**
 * The drift lane's deployment adapters (SPEC §4 "drift", seed 001 image lock) against a
 * fake gcloud/kubectl first on their PATH, serving recorded JSON: matching images pass,
 * image drift and failed executions are named, and a CLI that is missing, not logged in,
 * hung or answers nothing useful fails with a clear DeploymentError.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDeploymentAdapter } from '../../harness/deploy/deployment-adapter.ts';
import { findExecutionProblems, findImageLockProblems } from '../../harness/deploy/deployment-facts.ts';
import { DeploymentError } from '../../harness/deploy/run-cli.ts';
import type { DeploymentSpec } from '../../harness/target.ts';
import { cloudRunAnswers, createFakeDeployCli, type FakeDeployCli, kubernetesAnswers, recordedAnswer, withImage } from './fake-deploy-cli.ts';

const REPO = 'us-central1-docker.pkg.dev/openagentsgemini/openagents-runtime/runtime-rust';
const CURRENT = `${REPO}:3f74f77`;
const OLD = `${REPO}:b46b406`;

const cloudrun: DeploymentSpec = { kind: 'cloudrun', project: 'openagentsgemini', region: 'us-central1', service: 'runtime', migrate_job: 'runtime-migrate' };
const kubernetes: DeploymentSpec = { kind: 'kubernetes', namespace: 'runtime-prod', deployment: 'runtime', migrate_job: 'runtime-migrate', context: 'prod-cluster' };

const fakes: FakeDeployCli[] = [];
function fake(answers: Parameters<typeof createFakeDeployCli>[0], tools?: Parameters<typeof createFakeDeployCli>[1]): FakeDeployCli {
  const cli = createFakeDeployCli(answers, tools);
  fakes.push(cli);
  return cli;
}
afterEach(() => {
  for (const cli of fakes.splice(0)) cli.remove();
});

async function describeWith(spec: DeploymentSpec, cli: FakeDeployCli, timeoutMs?: number) {
  return createDeploymentAdapter(spec, { env: cli.env, ...(timeoutMs ? { timeoutMs } : {}) }).describe();
}

async function deploymentError(promise: Promise<unknown>): Promise<DeploymentError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeploymentError);
  return error as DeploymentError;
}

describe('cloudrun adapter', () => {
  it('reads the service, job and newest execution with --format=json; matching images pass', async () => {
    const cli = fake(cloudRunAnswers());
    const facts = await describeWith(cloudrun, cli);
    expect(facts).toMatchObject({
      serviceImage: CURRENT,
      migrateJobImage: CURRENT,
      latestExecution: { name: 'runtime-migrate-q7m2d', image: CURRENT, status: 'succeeded' },
    });
    expect(findImageLockProblems(facts)).toEqual([]);
    expect(findExecutionProblems(facts)).toEqual([]);
    const scope = ['--project', 'openagentsgemini', '--region', 'us-central1', '--format=json'];
    expect(cli.calls()).toEqual([
      ['gcloud', 'run', 'services', 'describe', 'runtime', ...scope],
      ['gcloud', 'run', 'jobs', 'describe', 'runtime-migrate', ...scope],
      ['gcloud', 'run', 'jobs', 'executions', 'list', '--job', 'runtime-migrate', ...scope],
    ]);
  });

  it('names image drift: the migrate job pinned to an older image (the seed-001 incident)', async () => {
    const job = withImage(recordedAnswer('cloudrun', 'jobs-describe'), ['spec', 'template', 'spec', 'template', 'spec'], OLD);
    const facts = await describeWith(cloudrun, fake(cloudRunAnswers({ 'jobs-describe': job })));
    expect(findImageLockProblems(facts)).toEqual([`migrate job image ${OLD} differs from service image ${CURRENT}`]);
  });

  it('names image drift: the newest execution ran another image than the service', async () => {
    const executions = recordedAnswer('cloudrun', 'executions-list');
    executions[0] = withImage(executions[0], ['spec', 'template', 'spec'], OLD);
    const facts = await describeWith(cloudrun, fake(cloudRunAnswers({ 'executions-list': executions })));
    expect(findImageLockProblems(facts)).toEqual([`latest migrate execution runtime-migrate-q7m2d ran image ${OLD}, the service runs ${CURRENT}`]);
  });

  it('picks the newest execution by creationTimestamp, whatever the list order', async () => {
    const executions = recordedAnswer('cloudrun', 'executions-list').reverse();
    const facts = await describeWith(cloudrun, fake(cloudRunAnswers({ 'executions-list': executions })));
    expect(facts.latestExecution.name).toBe('runtime-migrate-q7m2d');
  });

  it('names a failed latest execution with its condition message', async () => {
    const executions = recordedAnswer('cloudrun', 'executions-list');
    executions[0].status = {
      failedCount: 1,
      conditions: [{ type: 'Completed', status: 'False', reason: 'NonZeroExitCode', message: 'Task runtime-migrate-q7m2d-task0 failed with exit code 1.' }],
    };
    const facts = await describeWith(cloudrun, fake(cloudRunAnswers({ 'executions-list': executions })));
    expect(findExecutionProblems(facts)).toEqual([
      'latest migrate execution runtime-migrate-q7m2d (created 2026-01-20T11:03:02.318Z) is failed: NonZeroExitCode: Task runtime-migrate-q7m2d-task0 failed with exit code 1.',
    ]);
  });

  it('fails clearly when the migrate job never ran', async () => {
    const error = await deploymentError(describeWith(cloudrun, fake(cloudRunAnswers({ 'executions-list': [] }))));
    expect(error.code).toBe('no_executions');
    expect(error.message).toMatch(/the migrate job has no executions; it never ran/);
  });

  it('fails clearly when gcloud is not logged in (nonzero exit, stderr shown)', async () => {
    const stderr = 'ERROR: (gcloud.run.services.describe) You do not currently have an active account selected.\nPlease run:\n\n  $ gcloud auth login';
    const error = await deploymentError(describeWith(cloudrun, fake(cloudRunAnswers({ 'services-describe': { fail: { stderr } } }))));
    expect(error.code).toBe('cli_failed');
    expect(error.message).toMatch(/^gcloud run services describe runtime .*: exit 1: ERROR: \(gcloud\.run\.services\.describe\) You do not currently have an active account selected\./);
  });

  it('fails clearly when gcloud is not installed', async () => {
    const error = await deploymentError(describeWith(cloudrun, fake({}, [])));
    expect(error.code).toBe('cli_missing');
    expect(error.message).toMatch(/^gcloud is not installed or not on PATH/);
  });

  it('kills a hung gcloud at the timeout', async () => {
    const cli = fake(cloudRunAnswers({ 'services-describe': { sleepMs: 10_000, json: recordedAnswer('cloudrun', 'services-describe') } }));
    const started = Date.now();
    const error = await deploymentError(describeWith(cloudrun, cli, 500));
    expect(error.code).toBe('cli_timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails clearly on output that is not JSON', async () => {
    const error = await deploymentError(describeWith(cloudrun, fake(cloudRunAnswers({ 'executions-list': { not: 'a list' } }))));
    expect(error.code).toBe('bad_output');
  });
});

describe('kubernetes adapter', () => {
  it('reads the deployment and the job with -o json; matching images pass', async () => {
    const cli = fake(kubernetesAnswers());
    const facts = await describeWith(kubernetes, cli);
    expect(facts).toMatchObject({ serviceImage: CURRENT, migrateJobImage: CURRENT, latestExecution: { name: 'runtime-migrate', image: CURRENT, status: 'succeeded' } });
    expect(findImageLockProblems(facts)).toEqual([]);
    expect(findExecutionProblems(facts)).toEqual([]);
    const scope = ['-n', 'runtime-prod', '-o', 'json', '--context', 'prod-cluster'];
    expect(cli.calls()).toEqual([
      ['kubectl', 'get', 'deployment', 'runtime', ...scope],
      ['kubectl', 'get', 'job', 'runtime-migrate', ...scope],
    ]);
  });

  it('names image drift: the service rolled forward but the migrate job still runs the old image', async () => {
    const job = withImage(recordedAnswer('kubernetes', 'job'), ['spec', 'template', 'spec'], OLD);
    const facts = await describeWith(kubernetes, fake(kubernetesAnswers({ job })));
    expect(findImageLockProblems(facts)).toEqual([
      `migrate job image ${OLD} differs from service image ${CURRENT}`,
      `latest migrate execution runtime-migrate ran image ${OLD}, the service runs ${CURRENT}`,
    ]);
  });

  it('names a failed migrate job', async () => {
    const job = recordedAnswer('kubernetes', 'job');
    job.status = { startTime: '2026-01-20T11:02:51Z', failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] };
    const facts = await describeWith(kubernetes, fake(kubernetesAnswers({ job })));
    expect(findExecutionProblems(facts)).toEqual(['latest migrate execution runtime-migrate (created 2026-01-20T11:02:51Z) is failed: BackoffLimitExceeded: Job has reached the specified backoff limit']);
  });

  it('fails clearly when the migrate job never started', async () => {
    const job = recordedAnswer('kubernetes', 'job');
    job.status = {};
    const error = await deploymentError(describeWith(kubernetes, fake(kubernetesAnswers({ job }))));
    expect(error.code).toBe('no_executions');
  });

  it('fails clearly when kubectl is not installed', async () => {
    const error = await deploymentError(describeWith(kubernetes, fake({}, ['gcloud'])));
    expect(error.code).toBe('cli_missing');
    expect(error.message).toMatch(/^kubectl is not installed or not on PATH/);
  });

  it('fails clearly when kubectl has no access (nonzero exit)', async () => {
    const stderr = 'error: You must be logged in to the server (Unauthorized)';
    const error = await deploymentError(describeWith(kubernetes, fake(kubernetesAnswers({ deployment: { fail: { stderr } } }))));
    expect(error.code).toBe('cli_failed');
    expect(error.message).toContain('exit 1: error: You must be logged in to the server (Unauthorized)');
  });
});
