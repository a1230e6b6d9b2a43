/**
 * Puts a fake `gcloud` and `kubectl` (test/fixtures/deploy/fake-cli.mjs) in a bin
 * directory of their own and hands back the environment to run them with, so the
 * deployment adapters find them first on PATH without touching process.env.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';

export const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures', 'deploy');
const FAKE_CLI = join(FIXTURES, 'fake-cli.mjs');

/** A recorded answer (JSON), or a failure (stderr and exit code), optionally delayed. */
export type FakeAnswer = unknown | { fail: { stderr: string; exit?: number } } | { sleepMs: number; json: unknown };

export interface FakeDeployCli {
  /** Environment for the adapters: PATH is only the fake bin directory. */
  env: NodeJS.ProcessEnv;
  binDir: string;
  /** Every command the fakes received, e.g. ['gcloud', 'run', 'services', 'describe', ...]. */
  calls(): string[][];
  remove(): void;
}

export function recordedAnswer(kind: 'cloudrun' | 'kubernetes', name: string): any {
  return JSON.parse(readFileSync(join(FIXTURES, kind, `${name}.json`), 'utf8'));
}

/** Answers keyed by command: services-describe, jobs-describe, executions-list, deployment, job. */
export function createFakeDeployCli(answers: Record<string, FakeAnswer>, tools: ('gcloud' | 'kubectl')[] = ['gcloud', 'kubectl']): FakeDeployCli {
  const root = mkdtempSync(join(tmpdir(), 'runtime-gate-fake-cli-'));
  const binDir = join(root, 'bin');
  const dataDir = join(root, 'answers');
  mkdirSync(binDir);
  mkdirSync(dataDir);
  for (const tool of tools) {
    // Absolute paths: the fake must run with a PATH that holds nothing but itself.
    writeFileSync(join(binDir, tool), `#!/bin/sh\nexec '${process.execPath}' '${FAKE_CLI}' ${tool} "$@"\n`);
    chmodSync(join(binDir, tool), 0o755);
  }
  for (const [name, answer] of Object.entries(answers)) {
    const base = join(dataDir, name);
    if (answer && typeof answer === 'object' && 'fail' in answer) {
      const { stderr, exit } = (answer as { fail: { stderr: string; exit?: number } }).fail;
      writeFileSync(`${base}.stderr`, stderr);
      if (exit !== undefined) writeFileSync(`${base}.exit`, String(exit));
    } else if (answer && typeof answer === 'object' && 'sleepMs' in answer) {
      const delayed = answer as { sleepMs: number; json: unknown };
      writeFileSync(`${base}.sleep`, String(delayed.sleepMs));
      writeFileSync(`${base}.json`, JSON.stringify(delayed.json));
    } else writeFileSync(`${base}.json`, JSON.stringify(answer));
  }
  writeFileSync(join(dataDir, 'calls.jsonl'), '');
  return {
    env: { PATH: binDir, FAKE_CLI_DIR: dataDir },
    binDir,
    calls: () =>
      readFileSync(join(dataDir, 'calls.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The recorded Cloud Run answers, each overridable. */
export function cloudRunAnswers(overrides: Record<string, FakeAnswer> = {}): Record<string, FakeAnswer> {
  return {
    'services-describe': recordedAnswer('cloudrun', 'services-describe'),
    'jobs-describe': recordedAnswer('cloudrun', 'jobs-describe'),
    'executions-list': recordedAnswer('cloudrun', 'executions-list'),
    ...overrides,
  };
}

/** The recorded Kubernetes answers, each overridable. */
export function kubernetesAnswers(overrides: Record<string, FakeAnswer> = {}): Record<string, FakeAnswer> {
  return { deployment: recordedAnswer('kubernetes', 'deployment'), job: recordedAnswer('kubernetes', 'job'), ...overrides };
}

/** A copy of a pod-spec holder with its first container's image replaced. */
export function withImage<T>(resource: T, path: string[], image: string): T {
  const copy = structuredClone(resource) as any;
  let node = copy;
  for (const key of path) node = node[key];
  node.containers[0].image = image;
  return copy;
}
