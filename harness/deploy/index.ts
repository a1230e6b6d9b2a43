export { describeCloudRun } from './cloudrun-adapter.ts';
export { createDeploymentAdapter, type DeploymentAdapter } from './deployment-adapter.ts';
export { type DeploymentFacts, findExecutionProblems, findImageLockProblems, type MigrateExecution } from './deployment-facts.ts';
export { describeKubernetes } from './kubernetes-adapter.ts';
export { DeploymentError, type DeploymentErrorCode, type RunCliOptions, runJsonCli } from './run-cli.ts';
