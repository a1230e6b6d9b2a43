/**
 * The runtime-gate CLI: parses flags, calls the programmatic API, sets the exit code
 * (0 ok, 1 failed, 2 usage or configuration; `serve` exits 78 on a bad environment).
 */
import { parseArgs } from 'node:util';
import { runSmoke } from '../smoke.ts';

const USAGE = `runtime-gate — contract-first validation and parity harness

Usage:
  runtime-gate serve [--migrate] [--data-dir DIR] [--port N]
                                 run the reference server (env: contracts/runtime-env.schema.json)
  runtime-gate migrate [--build-sha SHA]
                                 apply contract migrations to DATABASE_URL (or DB_URL)
  runtime-gate smoke --url URL [--internal-token T] [--no-writes]
                                 seed-000 health + authority-path probe
  runtime-gate contracts generate|check
                                 regenerate contracts/generated/ or fail when stale
  runtime-gate help              this text

Exit codes: 0 ok, 1 failed, 2 usage or configuration error, 78 invalid environment (serve).`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return commandServe(rest);
    case 'migrate':
      return commandMigrate(rest);
    case 'smoke':
      return commandSmoke(rest);
    case 'contracts':
      return commandContracts(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

async function commandServe(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { migrate: { type: 'boolean' }, 'data-dir': { type: 'string' }, port: { type: 'string' } },
  });
  const { serve } = await import('../../reference-server/main.ts');
  const result = await serve({
    env: process.env,
    ...(values.migrate ? { migrate: true } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values.port !== undefined ? { port: parsePort(values.port) } : {}),
  });
  if ('exitCode' in result) return result.exitCode;
  await new Promise<void>((resolve) => {
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
    const onSignal = () => {
      for (const signal of signals) process.off(signal, onSignal);
      result.stop().then(resolve, (error: unknown) => {
        process.stderr.write(`runtime-gate serve: shutdown failed: ${String(error)}\n`);
        resolve();
      });
    };
    for (const signal of signals) process.on(signal, onSignal);
  });
  return 0;
}

async function commandMigrate(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'build-sha': { type: 'string' } } });
  const url = process.env.DATABASE_URL || process.env.DB_URL;
  if (!url) throw new UsageError('migrate needs DATABASE_URL or DB_URL');
  const buildSha = values['build-sha'] ?? process.env.RUNTIME_BUILD_SHA ?? 'dev';
  const { createPool } = await import('../../reference-server/db/pool.ts');
  const { migrate, MigrationError } = await import('../../reference-server/db/migrate.ts');
  const pool = createPool(url, { max: 1 });
  try {
    const result = await migrate(pool, { buildSha });
    process.stdout.write(
      `migrate: execution ${result.executionId}: applied ${result.applied.length} (${result.applied.join(', ') || 'none'}), already applied ${result.alreadyApplied.length}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof MigrationError) {
      process.stderr.write(`migrate: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await pool.end();
  }
}

async function commandSmoke(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { url: { type: 'string' }, 'internal-token': { type: 'string' }, 'no-writes': { type: 'boolean' }, json: { type: 'boolean' } },
  });
  const baseUrl = values.url ?? process.env.SMOKE_BASE_URL;
  if (!baseUrl) throw new UsageError('smoke needs --url URL (or SMOKE_BASE_URL)');
  const result = await runSmoke({
    baseUrl,
    ...(values['internal-token'] ?? process.env.RUNTIME_GATE_INTERNAL_TOKEN ? { internalToken: values['internal-token'] ?? process.env.RUNTIME_GATE_INTERNAL_TOKEN } : {}),
    ...(values['no-writes'] ? { noWrites: true } : {}),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const s of result.steps) process.stdout.write(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${s.detail}\n`);
  return result.ok ? 0 : 1;
}

async function commandContracts(args: string[]): Promise<number> {
  const [sub] = args;
  if (sub !== 'generate' && sub !== 'check') throw new UsageError('contracts needs generate or check');
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const script = fileURLToPath(new URL('../../scripts/generate.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...(sub === 'check' ? ['--check'] : [])], { stdio: 'inherit' });
  return run.status ?? 1;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${text} is not a port`);
  return port;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`runtime-gate: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`runtime-gate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
