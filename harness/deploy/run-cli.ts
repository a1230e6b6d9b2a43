/**
 * Runs a deployment CLI (gcloud, kubectl) without a shell, under a timeout, and parses
 * its JSON output. Every way it can go wrong becomes a DeploymentError with a code.
 */
import { execFile } from 'node:child_process';

export type DeploymentErrorCode = 'cli_missing' | 'cli_failed' | 'cli_timeout' | 'bad_output' | 'no_executions';

/** A deployment source could not answer; the drift lane reports it as a failed check. */
export class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
  constructor(
    readonly code: DeploymentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RunCliOptions {
  /**
   * Environment of the child process (its PATH is where the command is looked up).
   * Default: process.env. Tests pass a PATH with a fake CLI first.
   */
  env?: NodeJS.ProcessEnv;
  /** Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** `command args...` → parsed JSON of stdout. */
export function runJsonCli(command: string, args: string[], options: RunCliOptions = {}): Promise<unknown> {
  const shown = `${command} ${args.join(' ')}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        env: options.env ?? process.env,
        timeout: timeoutMs,
        maxBuffer: MAX_OUTPUT_BYTES,
        windowsHide: true,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (error, stdout, stderr) => {
        if (error) {
          const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: string | number; signal?: string };
          if (e.code === 'ENOENT') {
            reject(new DeploymentError('cli_missing', `${command} is not installed or not on PATH (needed for: ${shown})`));
          } else if (e.killed || e.code === 'ABORT_ERR') {
            reject(new DeploymentError('cli_timeout', `${shown}: no answer within ${timeoutMs} ms (killed)`));
          } else {
            const firstLines = String(stderr).trim().split('\n').slice(-5).join(' | ');
            reject(new DeploymentError('cli_failed', `${shown}: exit ${typeof e.code === 'number' ? e.code : (e.signal ?? e.code)}${firstLines ? `: ${firstLines}` : ''}`));
          }
          return;
        }
        try {
          resolve(JSON.parse(String(stdout)));
        } catch {
          reject(new DeploymentError('bad_output', `${shown}: stdout is not JSON: ${String(stdout).slice(0, 200)}`));
        }
      },
    );
  });
}
