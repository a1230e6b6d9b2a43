/**
 * Spawns the real `runtime-gate` command (`node bin/runtime-gate.mjs …`, cwd the package
 * root) as a child process with piped stdio, so it never sees a TTY. Every child is
 * tracked and `killAll()` (afterAll) kills the ones still running by their pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for "never prints X" assertions. */
  all: string;
}

export interface RunOptions {
  /** Extra environment variables (on top of a cleaned copy of this process's env). */
  env?: Record<string, string>;
  /** Hard deadline: the child is killed with SIGKILL after this long (default 45 s). */
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();

/**
 * This process's environment without anything that would change what the command
 * does: RUNTIME_GATE_* targets, the cutover script's variables, colour forcing.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(RUNTIME_GATE_|STAGING_|PROD_|FAIL_ON_REQUIRED_FAILURE$|FORCE_COLOR$|NO_COLOR$|SMOKE_)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

function runProcess(file: string, args: string[], options: RunOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: PACKAGE_ROOT, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 45_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
}

/** `node bin/runtime-gate.mjs ...args`. */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runProcess(process.execPath, ['bin/runtime-gate.mjs', ...args], options);
}

/** `bash scripts/validate-cutover.sh ...args`. */
export function runCutoverScript(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runProcess('bash', ['scripts/validate-cutover.sh', ...args], options);
}

/** Kills every child still running (afterAll), by its own pid. */
export function killAll(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}
