/**
 * The runtime-gate CLI: parses flags, calls the programmatic API, sets the exit code
 * (0 ok, 1 failed, 2 usage or configuration; `serve` exits 78 on a bad environment).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  runtime-gate validate [--target URL | --config F] [--baseline URL] [--lanes a,b] [--out DIR]
                       [--mode gate|baseline] [--shard i/n] [--internal-token T] [--sync-signing-key K]
                       [--db-url U] [--expected-build-sha S] [--no-writes] [--allow-payments]
                       [--wait-ready SECONDS] [--sign-key PEM] [--check-timeout-ms N] [--json] [--list-checks]
                       [--baseline-internal-token T] [--baseline-sync-signing-key K] [--baseline-db-url U]
                       [--max-warnings N] [--block-on-critical | --no-block-on-critical] [--read-only-parity] [--parity-seed N]
                                 parity (with --baseline): warning diffs allowed (default 0), whether a critical
                                 diff blocks (default yes), compare existing parity_topics only, scenario seed
                       [--checks id,prefix*]  (run only these checks; a pattern matching no check is a usage error)
                       [--require-lanes a,b]  (these lanes must run: one that cannot, for lack of input, is NO-GO)
                       [--run-timeout-ms N] [--env-file-path F]... [--profile test|live]
                                 run the lanes and write a GO/NO-GO report (exit 0 GO, 1 NO-GO, 2 usage,
                                 3 the target could not be evaluated: unreachable, credentials refused, not ready)
  runtime-gate report verify DIR [--pubkey PEM]
  runtime-gate report merge DIR... --out DIR
                                 verify a report folder's manifest (and signature); merge shards
  runtime-gate contracts lint [FILE...] [--conventions] [--remote-refs]
                                 lint OpenAPI/AsyncAPI documents (Spectral oas/asyncapi rulesets + structural
                                 validation) and JSON Schemas; no FILE: the built-in contracts, with this project's
                                 conventions (--conventions applies them to FILEs). One line per finding:
                                 FILE:LINE path message (rule); exit 1 on an error or a FILE it cannot read or parse
  runtime-gate contracts generate|check
                                 regenerate contracts/generated/ or fail when stale
  runtime-gate contracts diff OLD NEW
                                 breaking changes from OLD to NEW OpenAPI, operations matched by full path (servers
                                 base path + template); exit 1 when any, 2 when a file cannot be read or resolved
  runtime-gate db roles apply [--dry-run] [--db-url U]
                                 bring the database to contracts/db-roles.json, idempotently (dry run: print the SQL)
  runtime-gate db roles verify [--db-url U] [--json]
                                 list every violation of contracts/db-roles.json (exit 1 when any)
                                 (--db-url defaults to RUNTIME_GATE_DB_URL, DATABASE_URL or DB_URL)
  runtime-gate env check --env-file-path F [--profile dev|prod] [--env-file-path F [--profile P]]... [--json]
                                 validate env files for their profiles and DEV/PROD isolation
                                 (--profile applies to the file before it; default: the file's RUNTIME_ENV)
                                 --env-file F is the same flag, but Node 20 itself reads a --env-file
                                 anywhere on the command line (exit 9 when F is missing): use --env-file-path
  runtime-gate help              this text
  runtime-gate --version         the package version

Exit codes: 0 ok (GO), 1 failed (NO-GO), 2 usage or configuration error, 3 the target could not be
evaluated (unreachable, credentials refused, never ready), 78 invalid environment (serve).`;

class UsageError extends Error {}

/** Longest delay a Node timer takes (2^31 − 1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A flag that must be a positive finite number (a NaN deadline would never expire), at most
 * `max` (a deadline past Node's timer limit would fire at once).
 */
function positiveNumber(flag: string, text: string, max = MAX_TIMER_MS): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} must be a positive number, got ${text}`);
  if (value > max) throw new UsageError(`${flag} must be at most ${max}, got ${text}`);
  return value;
}

/** A comma-separated list flag; given but empty (`--lanes ''`) is a usage error, never "everything" or "nothing". */
function listFlag(flag: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag} is empty; give a comma-separated list`);
  return items;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) return main(['help']);
  switch (command) {
    case 'serve':
      return commandServe(rest);
    case 'migrate':
      return commandMigrate(rest);
    case 'smoke':
      return commandSmoke(rest);
    case 'contracts':
      return commandContracts(rest);
    case 'validate':
      return commandValidate(rest);
    case 'report':
      return commandReport(rest);
    case 'db':
      return commandDb(rest);
    case 'env':
      return commandEnv(rest);
    case '--version':
    case 'version': {
      const { PACKAGE_VERSION } = await import('../../reference-server/package-version.ts');
      process.stdout.write(`${PACKAGE_VERSION}\n`);
      return 0;
    }
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
  const [sub, ...rest] = args;
  if (sub === 'diff') {
    if (rest.length !== 2) throw new UsageError('contracts diff needs OLD NEW (OpenAPI documents, YAML or JSON)');
    const { diffOpenApiFiles, formatBreakingChanges, OpenApiInputError } = await import('../contract/openapi-diff.ts');
    let changes: Awaited<ReturnType<typeof diffOpenApiFiles>>;
    try {
      changes = await diffOpenApiFiles(rest[0]!, rest[1]!);
    } catch (error) {
      // A file that cannot be read, parsed or resolved: one line, exit 2 (no verdict about the change).
      if (!(error instanceof OpenApiInputError)) throw error;
      process.stderr.write(`runtime-gate: contracts diff: ${error.message}\n`);
      return 2;
    }
    process.stdout.write(`${formatBreakingChanges(changes)}\n`);
    return changes.length === 0 ? 0 : 1;
  }
  if (sub === 'lint') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { conventions: { type: 'boolean' }, 'remote-refs': { type: 'boolean' } } });
    const { formatLintFinding, isFailing, LintInputError, lintContracts, lintFile } = await import('../contract/lint-contracts.ts');
    const findings: Awaited<ReturnType<typeof lintFile>> = [];
    let unreadable = 0;
    if (positionals.length === 0) {
      findings.push(...(await lintContracts({}, { includeWarnings: true })));
    } else {
      for (const file of positionals) {
        try {
          findings.push(...(await lintFile(file, { conventions: values.conventions === true, remoteRefs: values['remote-refs'] === true })));
        } catch (error) {
          if (!(error instanceof LintInputError)) throw error;
          process.stderr.write(`runtime-gate: contracts lint: ${error.message}\n`);
          unreadable += 1;
        }
      }
    }
    for (const finding of findings) process.stdout.write(`${formatLintFinding(finding)}\n`);
    const errors = findings.filter(isFailing).length;
    const warnings = findings.length - errors;
    const counts = [errors > 0 ? `${errors} error(s)` : '', warnings > 0 ? `${warnings} warning(s)` : '', unreadable > 0 ? `${unreadable} file(s) not linted` : ''].filter(Boolean);
    process.stdout.write(errors === 0 && unreadable === 0 ? `contracts lint clean${warnings > 0 ? ` (${warnings} warning(s), not failing)` : ''}\n` : `contracts lint: ${counts.join(', ')}\n`);
    return errors === 0 && unreadable === 0 ? 0 : 1;
  }
  if (sub !== 'generate' && sub !== 'check') throw new UsageError('contracts needs lint, generate, check or diff');
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const script = fileURLToPath(new URL('../../scripts/generate.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...(sub === 'check' ? ['--check'] : [])], { stdio: 'inherit' });
  return run.status ?? 1;
}

async function commandValidate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: 'string' }, 'internal-token': { type: 'string' }, 'sync-signing-key': { type: 'string' }, 'db-url': { type: 'string' },
      'expected-build-sha': { type: 'string' }, baseline: { type: 'string' }, 'baseline-internal-token': { type: 'string' },
      'baseline-sync-signing-key': { type: 'string' }, 'baseline-db-url': { type: 'string' }, profile: { type: 'string' },
      config: { type: 'string' }, lanes: { type: 'string' }, out: { type: 'string' }, mode: { type: 'string' }, shard: { type: 'string' },
      'no-writes': { type: 'boolean' }, 'allow-payments': { type: 'boolean' }, 'wait-ready': { type: 'string' }, 'sign-key': { type: 'string' },
      'check-timeout-ms': { type: 'string' }, 'run-timeout-ms': { type: 'string' }, 'env-file': { type: 'string', multiple: true },
      json: { type: 'boolean' }, 'list-checks': { type: 'boolean' },
      'max-warnings': { type: 'string' }, 'block-on-critical': { type: 'boolean' }, 'no-block-on-critical': { type: 'boolean' },
      'read-only-parity': { type: 'boolean' }, 'parity-seed': { type: 'string' }, checks: { type: 'string' },
      'require-lanes': { type: 'string' },
    },
  });
  if (values.out && !values['list-checks']) {
    // First of all, before loading the lanes: a report folder that cannot be written fails fast.
    const { probeReportFolder, ReportFolderError } = await import('../report/report-folder.ts');
    try {
      probeReportFolder(values.out);
    } catch (error) {
      if (error instanceof ReportFolderError) throw new UsageError(error.message);
      throw error;
    }
  }
  const { ALL_LANES, GateConfigError, runGate, listChecks } = await import('../run-gate.ts');
  const { ReportFolderError } = await import('../report/index.ts');
  if (values['list-checks']) {
    for (const line of await listChecks()) process.stdout.write(`${line}\n`);
    return 0;
  }
  const { ConfigError, readGateConfigFile, resolveTargets } = await import('../target.ts');
  try {
    const file = values.config ? readGateConfigFile(values.config) : {};
    const targets = resolveTargets(values, process.env, file);
    const lanes = listFlag('--lanes', values.lanes) ?? file.lanes;
    const requiredLanes = [...(listFlag('--require-lanes', values['require-lanes']) ?? []), ...(file.required_lanes ?? [])];
    const checks = listFlag('--checks', values.checks);
    for (const lane of [...(lanes ?? []), ...requiredLanes]) {
      if (!(ALL_LANES as string[]).includes(lane)) throw new UsageError(`unknown lane ${lane} (lanes: ${ALL_LANES.join(', ')})`);
    }
    const mode = values.mode ?? file.mode ?? 'gate';
    if (mode !== 'gate' && mode !== 'baseline') throw new UsageError('--mode must be gate or baseline');
    let shard: { index: number; count: number } | undefined;
    if (values.shard) {
      const match = /^(\d+)\/(\d+)$/.exec(values.shard);
      if (!match || Number(match[1]) < 1 || Number(match[1]) > Number(match[2])) throw new UsageError('--shard must be i/n with 1 ≤ i ≤ n');
      shard = { index: Number(match[1]), count: Number(match[2]) };
    }
    const maxWarningsText = values['max-warnings'] ?? (file.max_warnings !== undefined ? String(file.max_warnings) : undefined);
    const maxWarnings = maxWarningsText === undefined ? undefined : Number(maxWarningsText);
    if (maxWarnings !== undefined && (!Number.isInteger(maxWarnings) || maxWarnings < 0)) throw new UsageError(`--max-warnings must be a non-negative integer, got ${maxWarningsText}`);
    if (values['block-on-critical'] && values['no-block-on-critical']) throw new UsageError('--block-on-critical and --no-block-on-critical exclude each other');
    const blockOnCritical = values['block-on-critical'] ? true : values['no-block-on-critical'] ? false : file.block_on_critical;
    const paritySeed = values['parity-seed'] === undefined ? undefined : Number(values['parity-seed']);
    if (paritySeed !== undefined && !Number.isSafeInteger(paritySeed)) throw new UsageError(`--parity-seed must be an integer, got ${values['parity-seed']}`);
    const tty = process.stderr.isTTY && !values.json;
    const result = await runGate({
      candidate: targets.candidate,
      ...(targets.baseline ? { baseline: targets.baseline } : {}),
      ...(maxWarnings !== undefined ? { maxWarnings } : {}),
      ...(blockOnCritical !== undefined ? { blockOnCritical } : {}),
      ...(values['read-only-parity'] ? { parityReadOnly: true } : {}),
      ...(paritySeed !== undefined ? { paritySeed } : {}),
      ...(lanes ? { lanes: lanes as never } : {}),
      ...(checks ? { checks } : {}),
      ...(requiredLanes.length ? { requiredLanes: requiredLanes as never } : {}),
      ...(file.optional_checks ? { optionalChecks: file.optional_checks } : {}),
      mode,
      ...(values.out ? { outDir: values.out } : {}),
      ...(values['no-writes'] ? { noWrites: true } : {}),
      ...(values['allow-payments'] ? { allowPayments: true } : {}),
      ...(values['env-file'] ? { envFiles: values['env-file'] } : {}),
      ...(shard ? { shard } : {}),
      ...(values['sign-key'] ? { signKey: values['sign-key'] } : {}),
      ...(values['check-timeout-ms'] ? { checkTimeoutMs: positiveNumber('--check-timeout-ms', values['check-timeout-ms'], Math.floor(MAX_TIMER_MS / 2)) } : {}),
      ...(values['run-timeout-ms'] ? { runTimeoutMs: positiveNumber('--run-timeout-ms', values['run-timeout-ms'], Math.floor(MAX_TIMER_MS / 2)) } : {}),
      ...(values['wait-ready'] ? { waitReadySeconds: positiveNumber('--wait-ready', values['wait-ready'], Math.floor(MAX_TIMER_MS / 2000)) } : {}),
      onProgress: (line) => {
        if (!values.json) process.stderr.write(`${line}\n`);
      },
      onCheckFinished: (check) => {
        if (values.json) return;
        const mark = { passed: tty ? '\u001b[32m✓\u001b[0m' : 'PASS', failed: tty ? '\u001b[31m✗\u001b[0m' : 'FAIL', error: tty ? '\u001b[31m!\u001b[0m' : 'ERROR', skipped: tty ? '-' : 'SKIP' }[check.status];
        process.stderr.write(`${mark} ${check.check_id} (${check.required}, ${check.duration_ms} ms)${check.status === 'passed' ? '' : `: ${check.detail}`}\n`);
      },
    });
    if (values.json) process.stdout.write(`${JSON.stringify(result.report)}\n`);
    else {
      process.stdout.write(`${result.report.decision}: ${result.report.decision_reason}\n`);
      process.stdout.write(`report: ${result.dir}\n${result.evidence}\n`);
    }
    if (result.report.evaluation_error) process.stderr.write(`runtime-gate: could not evaluate the target: ${result.report.evaluation_error.message}\n`);
    return result.exitCode;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ReportFolderError || error instanceof GateConfigError) throw new UsageError(error.message);
    throw error;
  }
}

async function commandReport(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const report = await import('../report/index.ts');
  const { readFileSync } = await import('node:fs');
  if (sub === 'verify') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { pubkey: { type: 'string' } } });
    if (positionals.length !== 1) throw new UsageError('report verify needs exactly one DIR');
    const result = await report.verifyReportFolder(positionals[0]!, values.pubkey ? { publicKey: readFileSync(values.pubkey, 'utf8') } : {});
    for (const problem of result.problems) process.stderr.write(`${problem}\n`);
    process.stdout.write(result.ok ? `ok: ${positionals[0]} sha256:${result.manifestSha256}\n` : `FAILED: ${result.problems.length} problem(s)\n`);
    return result.ok ? 0 : 1;
  }
  if (sub === 'merge') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, pubkey: { type: 'string' }, 'sign-key': { type: 'string' } } });
    if (!values.out || positionals.length === 0) throw new UsageError('report merge needs DIR... and --out DIR');
    try {
      const merged = await report.mergeReportFolders(positionals, values.out, {
        ...(values.pubkey ? { publicKey: readFileSync(values.pubkey, 'utf8') } : {}),
        ...(values['sign-key'] ? { signKey: readFileSync(values['sign-key'], 'utf8') } : {}),
      });
      process.stdout.write(`${merged.report.decision}: ${merged.report.decision_reason}\n${report.evidenceLine(merged)}\n`);
      return report.exitCodeOf(merged.report.decision, merged.report.mode);
    } catch (error) {
      if (error instanceof report.MergeError) throw new UsageError(error.message);
      throw error;
    }
  }
  throw new UsageError('report needs verify or merge');
}

async function commandDb(args: string[]): Promise<number> {
  const [noun, sub, ...rest] = args;
  if (noun !== 'roles' || (sub !== 'apply' && sub !== 'verify')) throw new UsageError('db needs roles apply or roles verify');
  const { values } = parseArgs({ args: rest, options: { 'db-url': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } });
  const url = values['db-url'] || process.env.RUNTIME_GATE_DB_URL || process.env.DATABASE_URL || process.env.DB_URL;
  if (!url) throw new UsageError(`db roles ${sub} needs --db-url U (or RUNTIME_GATE_DB_URL, DATABASE_URL, DB_URL)`);
  const { createPool } = await import('../../reference-server/db/pool.ts');
  const pool = createPool(url, { max: 1 });
  try {
    if (sub === 'apply') {
      const { applyDbRoles } = await import('../roles/apply-db-roles.ts');
      const result = await applyDbRoles(pool, { dryRun: values['dry-run'] ?? false });
      for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
      if (values['dry-run']) for (const sql of result.statements) process.stdout.write(`${sql}\n`);
      else process.stdout.write(`db roles apply: ${result.statements.length} statement(s) applied\n`);
      return 0;
    }
    const { verifyDbRoles } = await import('../roles/verify-db-roles.ts');
    const violations = await verifyDbRoles(pool);
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: violations.length === 0, violations })}\n`);
    else {
      for (const v of violations) process.stdout.write(`${v.rule}\t${v.message}\n`);
      process.stdout.write(violations.length === 0 ? 'ok: the database conforms to contracts/db-roles.json\n' : `FAILED: ${violations.length} violation(s) of contracts/db-roles.json\n`);
    }
    return violations.length === 0 ? 0 : 1;
  } finally {
    await pool.end();
  }
}

async function commandEnv(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'check') throw new UsageError('env needs check');
  const { tokens, values } = parseArgs({
    args: rest,
    tokens: true,
    options: { 'env-file': { type: 'string', multiple: true }, profile: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  });
  // Each --profile belongs to the --env-file before it.
  const files: { path: string; profile?: 'dev' | 'prod' }[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.name === 'env-file') files.push({ path: token.value! });
    if (token.name === 'profile') {
      const last = files.at(-1);
      if (!last || last.profile) throw new UsageError('--profile must follow the --env-file it applies to');
      if (token.value !== 'dev' && token.value !== 'prod') throw new UsageError(`--profile must be dev or prod, got ${token.value}`);
      last.profile = token.value;
    }
  }
  if (files.length === 0) throw new UsageError('env check needs at least one --env-file F');
  const { checkEnvFiles, formatEnvCheck } = await import('../env/check-env-files.ts');
  const result = checkEnvFiles(files);
  process.stdout.write(`${values.json ? JSON.stringify(result) : formatEnvCheck(result)}\n`);
  return result.ok ? 0 : 1;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${text} is not a port`);
  return port;
}

/** The command line with the value of every secret flag replaced (tokens, keys, database URLs). */
function redactedArgv(argv: readonly string[]): string[] {
  const secret = /^--(?:baseline-)?(?:internal-token|sync-signing-key|db-url)$/;
  return argv.map((arg, i) => {
    if (/^--(?:baseline-)?(?:internal-token|sync-signing-key|db-url)=/.test(arg)) return `${arg.split('=')[0]}=[redacted]`;
    return i > 0 && secret.test(argv[i - 1]!) ? '[redacted]' : arg;
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Writes the full error (stack included) to a log file; returns ` (details: PATH)`, or '' when even that fails. */
function writeCrashLog(error: unknown): string {
  const path = join(tmpdir(), `runtime-gate-error-${process.pid}-${Date.now()}.log`);
  try {
    writeFileSync(path, `${new Date().toISOString()} runtime-gate ${redactedArgv(process.argv.slice(2)).join(' ')}\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, { mode: 0o600 });
    return ` (details: ${path})`;
  } catch {
    return '';
  }
}

// A closed stdout (e.g. `| head`) ends the command quietly instead of crashing it.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

// --env-file-path is --env-file: Node 20 itself takes a --env-file anywhere on the command line as its own.
main(process.argv.slice(2).map((arg) => arg.replace(/^--env-file-path(=|$)/, '--env-file$1'))).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`runtime-gate: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    // Never a stack trace on the terminal: one line, and the whole error in a log file.
    process.stderr.write(`runtime-gate: unexpected error: ${firstLine(error)}${writeCrashLog(error)}\n`);
    process.exitCode = 1;
  },
);
