/**
 * `runtime-gate env check` and the env lane (SPEC §2.3, §4 "env", seed 002): each env
 * file is validated for its profile exactly as `serve` validates its environment (every
 * violation, not the first), DEV and PROD files must share no state, and a target's
 * `config_fingerprint` must be the one its env file yields.
 *
 * Values of secret variables (`x-secret` in contracts/runtime-env.schema.json) never
 * appear in any result or message: a variable is named, its value never.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { type EnvViolation, loadRuntimeEnv, type RuntimeProfile, variableSpecs } from '../../reference-server/config/runtime-env.ts';

export interface EnvFileInput {
  path: string;
  /** The profile the file is meant for; default: the file's RUNTIME_ENV (unset means dev). */
  profile?: RuntimeProfile;
}

export interface EnvFileResult {
  path: string;
  profile: RuntimeProfile;
  violations: EnvViolation[];
  /** The config_fingerprint a server started from this file reports; null when unreadable. */
  configFingerprint: string | null;
}

export interface IsolationViolation {
  variable: string;
  dev: string;
  prod: string;
  message: string;
}

export interface EnvCheckResult {
  ok: boolean;
  files: EnvFileResult[];
  /** DEV/PROD shared state; empty when not both profiles were given. */
  isolation: IsolationViolation[];
  /** True when at least one dev and one prod file were checked against each other. */
  isolationChecked: boolean;
}

interface LoadedFile {
  result: EnvFileResult;
  values: Record<string, string>;
}

/** Parses a dotenv-style file with Node's own parser (`util.parseEnv`). */
export function readEnvFile(path: string): Record<string, string> {
  const parsed = parseEnv(readFileSync(path, 'utf8'));
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function loadFile(input: EnvFileInput): LoadedFile {
  let source: Record<string, string>;
  try {
    source = readEnvFile(input.path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { result: { path: input.path, profile: input.profile ?? 'dev', violations: [{ variable: '(file)', rule: 'unreadable', hint: reason }], configFingerprint: null }, values: {} };
  }
  const declared = source.RUNTIME_ENV;
  const profile: RuntimeProfile = input.profile ?? (declared === 'prod' ? 'prod' : 'dev');
  const violations: EnvViolation[] = [];
  if (input.profile && (declared ?? 'dev') !== input.profile) {
    violations.push({
      variable: 'RUNTIME_ENV',
      rule: `must be ${input.profile} in a ${input.profile} env file`,
      hint: declared === undefined ? 'unset means dev: the server never infers prod' : `the file says ${declared}`,
    });
  }
  // Validate as the profile the file is for, so a prod file missing RUNTIME_ENV still gets every prod rule.
  const loaded = loadRuntimeEnv({ ...source, RUNTIME_ENV: profile });
  violations.push(...loaded.violations);
  return { result: { path: input.path, profile, violations, configFingerprint: loaded.configFingerprint }, values: loaded.values as Record<string, string> };
}

/** Same database: same host, port and database name (user and password do not make it another database). */
function databaseIdentity(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return `${parsed.hostname.toLowerCase()}:${parsed.port || '5432'}/${decodeURIComponent(parsed.pathname.replace(/^\//, '')) || parsed.username}`;
  } catch {
    return url;
  }
}

function pathsOverlap(a: string, b: string): boolean {
  const ra = resolve(a);
  const rb = resolve(b);
  const inside = (parent: string, child: string) => {
    const rel = relative(parent, child);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  return inside(ra, rb) || inside(rb, ra);
}

/** seed 002: "DEV and PROD MUST NEVER share state" — database, instance, persistence, keys. */
function findSharedState(dev: LoadedFile, prod: LoadedFile): IsolationViolation[] {
  const out: IsolationViolation[] = [];
  const pair = { dev: dev.result.path, prod: prod.result.path };
  const add = (variable: string, what: string) => out.push({ variable, ...pair, message: `${variable}: dev (${pair.dev}) and prod (${pair.prod}) ${what}` });
  const devDb = databaseIdentity(dev.values.DATABASE_URL);
  if (devDb !== undefined && devDb === databaseIdentity(prod.values.DATABASE_URL)) add('DATABASE_URL', 'point at the same database');
  if (dev.values.RUNTIME_INSTANCE_ID && dev.values.RUNTIME_INSTANCE_ID === prod.values.RUNTIME_INSTANCE_ID) {
    add('RUNTIME_INSTANCE_ID', `share the instance id ${dev.values.RUNTIME_INSTANCE_ID}`);
  }
  if (dev.values.RUNTIME_DATA_DIR && prod.values.RUNTIME_DATA_DIR && pathsOverlap(dev.values.RUNTIME_DATA_DIR, prod.values.RUNTIME_DATA_DIR)) {
    add('RUNTIME_DATA_DIR', `share persistence paths (${dev.values.RUNTIME_DATA_DIR} and ${prod.values.RUNTIME_DATA_DIR})`);
  }
  // Every secret of the env schema (DATABASE_URL is compared above, by the database it names).
  for (const secret of Object.keys(variableSpecs()).filter((name) => variableSpecs()[name]!['x-secret'] && name !== 'DATABASE_URL')) {
    if (dev.values[secret] && dev.values[secret] === prod.values[secret]) add(secret, 'use the same value');
  }
  return out;
}

/** Validates every file for its profile and, when dev and prod files are both given, their isolation. */
export function checkEnvFiles(inputs: EnvFileInput[]): EnvCheckResult {
  const loaded = inputs.map(loadFile);
  const readable = loaded.filter((f) => f.result.configFingerprint !== null);
  const devs = readable.filter((f) => f.result.profile === 'dev');
  const prods = readable.filter((f) => f.result.profile === 'prod');
  const isolation = devs.flatMap((dev) => prods.flatMap((prod) => findSharedState(dev, prod)));
  const result: EnvCheckResult = {
    ok: loaded.every((f) => f.result.violations.length === 0) && isolation.length === 0,
    files: loaded.map((f) => f.result),
    isolation,
    isolationChecked: devs.length > 0 && prods.length > 0,
  };
  return scrubSecrets(result, loaded.flatMap((f) => secretValues(f.values)));
}

/** The values of secret variables in a file, for the last-line redaction of any output. */
export function secretValues(values: Record<string, string | undefined>): string[] {
  const specs = variableSpecs();
  const out: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (value && value.length >= 4 && specs[name]?.['x-secret']) {
      out.push(value);
      // A database URL's password is a secret on its own too.
      if (name === 'DATABASE_URL') {
        try {
          const password = decodeURIComponent(new URL(value).password);
          if (password.length >= 4) out.push(password);
        } catch {
          // not a URL: the whole value is already listed
        }
      }
    }
  }
  return out;
}

/** Messages are built from variable names only; this replaces any secret value that slipped in anyway. */
function scrubSecrets<T>(value: T, secrets: string[]): T {
  if (secrets.length === 0) return value;
  const sorted = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  return JSON.parse(JSON.stringify(value), (_key, v) => (typeof v === 'string' ? sorted.reduce((acc, s) => acc.split(s).join('[redacted]'), v) : v)) as T;
}

/** Human-readable result: one line per violation, never a secret's value. */
export function formatEnvCheck(result: EnvCheckResult): string {
  const lines: string[] = [];
  for (const file of result.files) {
    lines.push(`${file.violations.length === 0 ? 'ok  ' : 'FAIL'} ${file.path} (${file.profile})${file.violations.length ? `: ${file.violations.length} violation(s)` : ''}`);
    for (const v of file.violations) lines.push(`  ${v.variable}: ${v.rule}${v.hint ? ` (${v.hint})` : ''}`);
  }
  if (result.isolationChecked) {
    lines.push(`${result.isolation.length === 0 ? 'ok  ' : 'FAIL'} dev/prod isolation${result.isolation.length ? `: ${result.isolation.length} shared value(s)` : ''}`);
    for (const v of result.isolation) lines.push(`  ${v.message}`);
  }
  return lines.join('\n');
}

/** The config_fingerprint a server started from `path` reports, with the file's own profile. */
export function expectedConfigFingerprint(path: string): string {
  return loadRuntimeEnv(readEnvFile(path)).configFingerprint;
}
