/**
 * `runtime-gate serve`: validate the environment (exit 78 listing every violation),
 * open the database (the embedded one in dev when DATABASE_URL is unset), migrate
 * when asked, listen, and shut down gracefully on SIGTERM/SIGINT (SPEC §3.1).
 */
import { join } from 'node:path';
import type pg from 'pg';
import { toRuntimeConfig } from './config/runtime-config.ts';
import { formatViolations, loadRuntimeEnv } from './config/runtime-env.ts';
import { type EmbeddedDatabase, startEmbeddedDatabase } from './db/embedded-database.ts';
import { migrate } from './db/migrate.ts';
import { createPool } from './db/pool.ts';
import { createLogger } from './logger.ts';
import { createReferenceServer } from './server.ts';

/** sysexits EX_CONFIG: the environment is invalid. */
export const EXIT_CONFIG = 78;

export interface ServeOptions {
  env: Record<string, string | undefined>;
  migrate?: boolean;
  dataDir?: string;
  /** Overrides RUNTIME_BIND_ADDR's port (0 = any free port). */
  port?: number;
  stderr?: (line: string) => void;
}

export interface RunningServe {
  url: string;
  stop(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<RunningServe | { exitCode: number }> {
  const stderr = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loaded = loadRuntimeEnv(options.env);
  if (loaded.violations.length > 0) {
    stderr(`runtime-gate serve: invalid environment for profile ${loaded.profile} (${loaded.violations.length} violation${loaded.violations.length === 1 ? '' : 's'}):`);
    stderr(formatViolations(loaded.violations));
    return { exitCode: EXIT_CONFIG };
  }
  const config = toRuntimeConfig(loaded);
  const logger = createLogger(config.logLevel);
  if (loaded.profileInferred) logger.warn('RUNTIME_ENV is unset: running with the dev profile (prod is never inferred)');

  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const dataDir = options.dataDir ?? config.dataDir;
    logger.info({ data_dir: join(dataDir, 'pgdata') }, 'DATABASE_URL is unset: starting the embedded PostgreSQL');
    embedded = await startEmbeddedDatabase({ dataDir });
    url = embedded.url;
  }
  const pool: pg.Pool = createPool(url, { max: config.db.poolMax, statementTimeoutMs: config.db.statementTimeoutMs, logger });
  try {
    if (embedded || options.migrate || config.migrateOnStart) {
      const result = await migrate(pool, { buildSha: config.buildSha, log: (fields, message) => logger.info(fields, message) });
      logger.info({ applied: result.applied, execution_id: result.executionId }, 'migrations up to date');
    }
    const server = await createReferenceServer({ pool, config, logger });
    const { url: listenUrl } = await server.listen(options.port === undefined ? {} : { port: options.port });
    logger.info({ url: listenUrl, build_sha: config.buildSha, profile: config.profile, authority_write_mode: config.writeMode }, 'reference server listening');
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        logger.info('shutting down: closing listeners and sockets, draining requests');
        await server.close();
        await pool.end();
        await embedded?.stop();
        logger.info('stopped');
      })();
      return stopping;
    };
    return { url: listenUrl, stop };
  } catch (error) {
    await pool.end().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw error;
  }
}
