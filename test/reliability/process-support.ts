/**
 * Processes the reliability tests start and must always stop: the reference server as a
 * child process (`runtime-gate serve`, so it can be killed with SIGKILL) and a private,
 * restartable PostgreSQL cluster (the shared test cluster must never be restarted).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';
import { findFreePort, startEmbeddedDatabase } from '../../reference-server/db/embedded-database.ts';

const BIN = join(PACKAGE_ROOT, 'bin', 'runtime-gate.mjs');
const children = new Set<ChildProcess>();

/** SIGKILLs every child still running (afterAll, also after a failed test). */
export function killAllChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** stdout (pino JSON) and stderr lines. */
  lines: string[];
  kill9(): Promise<void>;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). */
  stop(): Promise<number | null>;
}

/** Starts `runtime-gate serve --port PORT` with env on top of a minimal dev environment; resolves once it logs that it listens (so LOG_LEVEL must be info or lower). */
export async function spawnServer(env: Record<string, string>, port: number, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', RUNTIME_ENV: 'dev', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`serve did not listen within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (lines.length > 5000) lines.splice(0, 1000);
        if (line.includes('"reference server listening"')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${lines.slice(-20).join('\n')}`));
    });
  });
  return {
    url,
    port,
    child,
    lines,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
      children.delete(child);
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      children.delete(child);
      return code;
    },
  };
}

export { findFreePort };

/** A PostgreSQL cluster of one test, which that test may stop and start again on the same port. */
export interface PrivatePostgres {
  /** Superuser URL of database `name`. */
  urlFor(name: string): string;
  adminUrl: string;
  /** Immediate stop (like a crash: no checkpoint, connections cut) when `immediate`. */
  stop(immediate?: boolean): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and removes its directory. */
  destroy(): Promise<void>;
}

function localBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(root, version, 'bin') : undefined;
}

/**
 * MEASURED.md: local PostgreSQL binaries start a throwaway cluster in about 1 s (run as the
 * postgres user when we are root); without them, the npm-packaged PostgreSQL.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const binDir = localBinDir();
  const isRoot = process.getuid?.() === 0;
  const hasPostgresUser = !isRoot || spawnSync('id', ['-u', 'postgres']).status === 0;
  if (binDir && hasPostgresUser) return startLocalCluster(binDir, isRoot);
  return startEmbeddedCluster();
}

async function startLocalCluster(binDir: string, isRoot: boolean): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-private-pg-'));
  chmodSync(dir, 0o700);
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const run = (bin: string, args: string[]) => {
    const [command, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir, bin), ...args]] : [join(binDir, bin), args];
    const result = spawnSync(command as string, argv as string[], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  const port = await findFreePort();
  const data = join(dir, 'data');
  const start = async () =>
    run('pg_ctl', ['-D', data, '-w', '-t', '30', '-l', join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start']);
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  await start();
  let running = true;
  const urlFor = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    async stop(immediate = false) {
      run('pg_ctl', ['-D', data, '-m', immediate ? 'immediate' : 'fast', '-w', 'stop']);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      try {
        if (running) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

async function startEmbeddedCluster(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-private-pg-'));
  chmodSync(dir, 0o755);
  let db = await startEmbeddedDatabase({ dataDir: dir, databaseName: 'postgres' });
  const port = db.port;
  let running = true;
  const urlFor = (name: string) => {
    const url = new URL(db.url);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    adminUrl: db.url,
    urlFor,
    async stop() {
      await db.stop();
      running = false;
    },
    async start() {
      db = await startEmbeddedDatabase({ dataDir: dir, databaseName: 'postgres', port });
      running = true;
    },
    async destroy() {
      try {
        if (running) await db.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
