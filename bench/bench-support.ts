/**
 * Shared pieces of `npm run bench` (SPEC §6): the reference server in a child
 * process, a keep-alive HTTP client, sync tokens and percentiles.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = dirname(BENCH_DIR);

/** Development secrets of the dev profile (never accepted in prod); the bench server runs as dev. */
export interface BenchServer {
  url: string;
  pid: number;
  internalToken: string;
  stop(): Promise<void>;
}

/**
 * Starts `serve()` (reference-server/main.ts) in a child process on `databaseUrl`, on
 * 127.0.0.1 and a free port. The child is its own process so the load generators of
 * the bench do not share its event loop; with `cpuProfileDir` it runs under --cpu-prof.
 */
export async function startBenchServer(env: Record<string, string>, options: { cpuProfileDir?: string } = {}): Promise<BenchServer> {
  const args = [...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []), '--import', 'tsx', join(BENCH_DIR, 'bench-server.ts')];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ url: string; internalToken: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { url: string; internalToken: string }));
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code} before listening`)));
    child.once('error', reject);
  });
  return {
    url: ready.url,
    pid: child.pid!,
    internalToken: ready.internalToken,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send('stop');
      }),
  };
}

/** A JSON-over-HTTP client on a keep-alive agent (lower overhead per request than fetch). */
export class BenchHttp {
  readonly agent: Agent;
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    maxSockets = 16,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.baseUrl}${path}`,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
            } catch (error) {
              reject(error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  async createRun(owner: string): Promise<string> {
    const created = await this.call<{ run: { id: string } }>('POST', '/internal/v1/runs', {}, { 'x-oa-user-id': owner });
    if (created.status !== 201) throw new Error(`POST /internal/v1/runs ${created.status}: ${JSON.stringify(created.body)}`);
    return created.body.run.id;
  }

  async syncToken(sub: string): Promise<string> {
    const minted = await this.call<{ token: string }>('POST', '/internal/v1/sync/token', { sub, scopes: ['runtime.run_events'], ttl_seconds: 3600 });
    if (minted.status !== 200) throw new Error(`POST /internal/v1/sync/token ${minted.status}: ${JSON.stringify(minted.body)}`);
    return minted.body.token;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
