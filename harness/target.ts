/**
 * Targets of a gate run (SPEC §4): from flags, RUNTIME_GATE_* environment variables
 * or a JSON config file — flags override env, env overrides the file. Secrets may
 * be given as `env:VAR` or `file:PATH` references so they never sit in a config file.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { contractPaths, readJsonContract } from '../contracts/contract-files.ts';
import type { Deployment, GateConfigFile } from '../contracts/generated/gate-config.ts';
import { formatAjvErrors } from '../contracts/openapi-operations.ts';

export interface TargetSpec {
  name: string;
  base_url: string;
  ws_url?: string;
  internal_token?: string;
  sync_signing_key?: string;
  sync_token?: string;
  db_url?: string;
  expected_build_sha?: string;
  node_urls?: string[];
  headers?: Record<string, string>;
  sync_token_issuer?: string;
  sync_token_audience?: string;
  profile?: 'test' | 'live';
  /** The env file this target was started from (env lane: config_fingerprint comparison). */
  env_file?: string;
  /** Where the drift lane reads the deployed images from (seed 001 image lock); optional. */
  deployment?: DeploymentSpec;
  /** Inputs of the Khala threat-model checks that the harness cannot derive itself. */
  khala_threat?: KhalaThreatInputs;
  /**
   * Existing topics the parity lane replays from seq 0 and compares in read-only mode
   * (paired by position with the other target's list; one list serves both when only one
   * target has it). An entry may name the token subject that may read it.
   */
  parity_topics?: (string | { topic: string; owner?: string })[];
}

/**
 * Per-target inputs of the `khala.threat.*` checks: an origin the target allows, a jti
 * it was configured to revoke (`RUNTIME_SYNC_REVOKED_JTIS`), and, for targets whose
 * signing key the harness does not hold, a ready-made token per deny reason code
 * (e.g. `{"token_expired": "eyJ…"}`); such tokens are secrets and are redacted.
 */
export interface KhalaThreatInputs {
  allowed_origin?: string;
  revoked_jti?: string;
  tokens?: Partial<Record<string, string>>;
}

/** A deployment source for the drift lane's image-lock facts (seed 001 image lock). */
export type DeploymentSpec = Deployment;

/** The `--config` file, as contracts/gate-config.schema.json defines it (validated on load). */
export type { GateConfigFile };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const SECRET_FIELDS = ['internal_token', 'sync_signing_key', 'sync_token', 'db_url'] as const;

/** Resolves an `env:VAR` or `file:PATH` reference; other values are returned as they are. */
export function resolveSecretReference(value: string, field: string, env: Record<string, string | undefined>): string {
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    const resolved = env[name];
    if (resolved === undefined || resolved === '') throw new ConfigError(`${field}: environment variable ${name} is not set`);
    return resolved;
  }
  if (value.startsWith('file:')) {
    const path = value.slice(5);
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`${field}: cannot read ${path}: ${(error as Error).message}`);
    }
  }
  return value;
}

function validateTarget(role: string, spec: Partial<TargetSpec>, env: Record<string, string | undefined>): TargetSpec {
  const where = role === 'baseline' ? '--baseline URL, RUNTIME_GATE_BASELINE_URL or targets.baseline.base_url in the config file' : '--target URL, RUNTIME_GATE_TARGET_URL or targets.candidate.base_url in the config file';
  if (!spec.base_url) throw new ConfigError(`${role}: base_url is required (${where})`);
  let url: URL;
  try {
    url = new URL(spec.base_url);
  } catch {
    throw new ConfigError(`${role}: base_url is not a URL (${where})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${role}: base_url must be http(s), got ${url.protocol}`);
  // Credentials in a URL would be sent nowhere (fetch refuses them) and would end up in the report.
  if (url.username || url.password) throw new ConfigError(`${role}: base_url must not carry credentials (user:password@); give the internal token with its own flag`);
  const resolved: TargetSpec = { ...spec, name: spec.name ?? role, base_url: spec.base_url.replace(/\/+$/, '') } as TargetSpec;
  for (const field of SECRET_FIELDS) {
    const value = resolved[field];
    if (typeof value === 'string') resolved[field] = resolveSecretReference(value, `${role}.${field}`, env);
  }
  const threatTokens = resolved.khala_threat?.tokens;
  if (threatTokens) {
    const tokens = Object.fromEntries(Object.entries(threatTokens).map(([reason, value]) => [reason, typeof value === 'string' ? resolveSecretReference(value, `${role}.khala_threat.tokens.${reason}`, env) : value]));
    resolved.khala_threat = { ...resolved.khala_threat, tokens };
  }
  if (resolved.profile !== undefined && resolved.profile !== 'test' && resolved.profile !== 'live') throw new ConfigError(`${role}: profile must be test or live`);
  return resolved;
}

export interface TargetFlags {
  target?: string;
  'internal-token'?: string;
  'sync-signing-key'?: string;
  'db-url'?: string;
  'expected-build-sha'?: string;
  baseline?: string;
  'baseline-internal-token'?: string;
  'baseline-sync-signing-key'?: string;
  'baseline-db-url'?: string;
  profile?: string;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

/** Merges file < env < flags into candidate (and baseline when any source names one). */
export function resolveTargets(flags: TargetFlags, env: Record<string, string | undefined>, file: GateConfigFile = {}): { candidate: TargetSpec; baseline?: TargetSpec } {
  const candidate = {
    ...(file.targets?.candidate ?? {}),
    ...defined({
      base_url: env.RUNTIME_GATE_TARGET_URL,
      internal_token: env.RUNTIME_GATE_INTERNAL_TOKEN,
      sync_signing_key: env.RUNTIME_GATE_SYNC_SIGNING_KEY,
      db_url: env.RUNTIME_GATE_DB_URL,
      expected_build_sha: env.RUNTIME_GATE_EXPECTED_BUILD_SHA,
    }),
    ...defined({
      base_url: flags.target,
      internal_token: flags['internal-token'],
      sync_signing_key: flags['sync-signing-key'],
      db_url: flags['db-url'],
      expected_build_sha: flags['expected-build-sha'],
      profile: flags.profile as TargetSpec['profile'],
    }),
  };
  const baselineParts = {
    ...(file.targets?.baseline ?? {}),
    ...defined({
      base_url: env.RUNTIME_GATE_BASELINE_URL,
      internal_token: env.RUNTIME_GATE_BASELINE_INTERNAL_TOKEN,
      sync_signing_key: env.RUNTIME_GATE_BASELINE_SYNC_SIGNING_KEY,
      db_url: env.RUNTIME_GATE_BASELINE_DB_URL,
    }),
    ...defined({
      base_url: flags.baseline,
      internal_token: flags['baseline-internal-token'],
      sync_signing_key: flags['baseline-sync-signing-key'],
      db_url: flags['baseline-db-url'],
    }),
  };
  const result: { candidate: TargetSpec; baseline?: TargetSpec } = { candidate: validateTarget('candidate', { name: 'candidate', ...candidate }, env) };
  if (Object.keys(baselineParts).length > 0) result.baseline = validateTarget('baseline', { name: 'baseline', ...baselineParts }, env);
  return result;
}

export function readGateConfigFile(path: string): GateConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`--config ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--config ${path}: not JSON: ${(error as Error).message}`);
  }
  const problems = validateGateConfig(value);
  if (problems.length > 0) throw new ConfigError(`--config ${path}: ${problems.join('; ')} (see contracts/gate-config.schema.json)`);
  return value as GateConfigFile;
}

let compiledConfigSchema: ReturnType<Ajv2020['compile']> | undefined;

/** Every way `value` breaks contracts/gate-config.schema.json, as `$.json.path message` (an unknown key is one). */
export function validateGateConfig(value: unknown): string[] {
  compiledConfigSchema ??= new Ajv2020({ allErrors: true, strict: false }).compile(readJsonContract(contractPaths.gateConfigSchema));
  if (compiledConfigSchema(value)) return [];
  // oneOf reports every branch; the branch-level summaries add nothing to the concrete problems.
  const violations = formatAjvErrors(compiledConfigSchema.errors).filter((v) => !/must match exactly one schema in oneOf/.test(v.message));
  return [...new Set(violations.map((v) => `${v.path} ${v.message}`))];
}

/** Every secret value of a target, for redaction of logs and reports. */
export function targetSecrets(target: TargetSpec): string[] {
  const secrets = SECRET_FIELDS.map((f) => target[f]).filter((v): v is string => typeof v === 'string' && v.length >= 4);
  for (const value of Object.values(target.headers ?? {})) if (value.length >= 8) secrets.push(value);
  for (const value of Object.values(target.khala_threat?.tokens ?? {})) if (value && value.length >= 8) secrets.push(value);
  const password = target.db_url ? (() => { try { return decodeURIComponent(new URL(target.db_url).password); } catch { return ''; } })() : '';
  if (password.length >= 4) secrets.push(password);
  return secrets;
}
