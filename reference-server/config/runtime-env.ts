/**
 * Loads and validates the process environment against contracts/runtime-env.schema.json
 * (SPEC §2.3, §3.1). Every violation is collected (never just the first), values of
 * secret variables never appear in a violation, and the non-secret environment-owned
 * values are fingerprinted for /internal/v1/health.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import canonicalize from 'canonicalize';
import { contractPaths, readJsonContract, sha256Hex } from '../../contracts/contract-files.ts';
import type { RuntimeEnv } from '../../contracts/generated/runtime-env.ts';

interface VariableSpec {
  description: string;
  default?: string;
  'x-dev-default'?: string;
  'x-secret': boolean;
  'x-ownership': 'environment' | 'deploy';
  'x-type'?: 'integer' | 'boolean' | 'number';
  'x-minimum'?: number;
  'x-min-bytes'?: number;
  enum?: string[];
  pattern?: string;
  minLength?: number;
}

interface RuntimeEnvSchema {
  properties: Record<string, VariableSpec>;
  'x-prod-required': string[];
  'x-unknown-prefix': string;
  'x-ignored-prefix': string;
}

export const runtimeEnvSchema = readJsonContract<RuntimeEnvSchema & Record<string, unknown>>(
  contractPaths.runtimeEnvSchema,
);

export type RuntimeProfile = 'dev' | 'prod';

export interface EnvViolation {
  variable: string;
  rule: string;
  hint: string;
}

export interface LoadedRuntimeEnv {
  profile: RuntimeProfile;
  /** True when RUNTIME_ENV was unset and dev was assumed (logged at startup). */
  profileInferred: boolean;
  /** Effective values after defaults; variables with no value and no default are absent. */
  values: RuntimeEnv;
  /** Which variables took their value from a default. */
  defaulted: string[];
  violations: EnvViolation[];
  /** sha256 of the RFC 8785 JSON of every non-secret, environment-owned effective value. */
  configFingerprint: string;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateEnv = ajv.compile(runtimeEnvSchema);

export function variableSpecs(): Record<string, VariableSpec> {
  return runtimeEnvSchema.properties;
}

/** The value a dev-profile server uses when `name` is unset (its `x-dev-default`), e.g. the dev internal token. */
export function devDefault(name: string): string {
  const value = runtimeEnvSchema.properties[name]?.['x-dev-default'];
  if (value === undefined) throw new Error(`${name} has no x-dev-default in contracts/runtime-env.schema.json`);
  return String(value);
}

/** Reads the environment the way `serve` does; pure, so tests and `env check` reuse it. */
export function loadRuntimeEnv(source: Record<string, string | undefined>): LoadedRuntimeEnv {
  const specs = runtimeEnvSchema.properties;
  const rawProfile = source.RUNTIME_ENV;
  const profile: RuntimeProfile = rawProfile === 'prod' ? 'prod' : 'dev';
  const values: Record<string, string> = {};
  const defaulted: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const given = source[name];
    if (given !== undefined && given !== '') {
      values[name] = given;
      continue;
    }
    const fallback = spec.default ?? (profile === 'dev' ? spec['x-dev-default'] : undefined);
    if (fallback !== undefined && !(profile === 'prod' && runtimeEnvSchema['x-prod-required'].includes(name))) {
      values[name] = fallback;
      defaulted.push(name);
    }
  }
  if (rawProfile === undefined || rawProfile === '') values.RUNTIME_ENV = 'dev';

  const violations: EnvViolation[] = [];
  if (!validateEnv(values)) {
    // `if` only says that the prod branch failed; its `then` errors say how.
    for (const error of validateEnv.errors ?? []) if (error.keyword !== 'if') violations.push(describeSchemaError(error, specs));
  }
  for (const [name, value] of Object.entries(values)) {
    const spec = specs[name];
    if (spec?.['x-type'] === 'integer' && spec['x-minimum'] !== undefined && /^[0-9]+$/.test(value)) {
      if (Number(value) < spec['x-minimum']) {
        violations.push({ variable: name, rule: `minimum ${spec['x-minimum']}`, hint: `use an integer ≥ ${spec['x-minimum']}` });
      }
    }
    const minBytes = spec?.['x-min-bytes'];
    if (minBytes !== undefined && Buffer.byteLength(value, 'utf8') < minBytes) {
      violations.push({ variable: name, rule: `at least ${minBytes} bytes`, hint: 'generate one with `openssl rand -hex 32`' });
    }
  }
  for (const name of Object.keys(source)) {
    if (
      name.startsWith(runtimeEnvSchema['x-unknown-prefix']) &&
      !name.startsWith(runtimeEnvSchema['x-ignored-prefix']) &&
      !(name in specs)
    ) {
      violations.push({ variable: name, rule: 'unknown variable', hint: `not in contracts/runtime-env.schema.json${suggest(name, specs)}` });
    }
  }
  return {
    profile,
    profileInferred: rawProfile === undefined || rawProfile === '',
    values: values as RuntimeEnv,
    defaulted,
    violations: dedupeViolations(violations),
    configFingerprint: computeConfigFingerprint(values),
  };
}

/** sha256 of the canonical JSON of the non-secret, environment-owned effective values (SPEC §2.1). */
export function computeConfigFingerprint(values: Record<string, string | undefined>): string {
  const owned: Record<string, string> = {};
  for (const [name, spec] of Object.entries(runtimeEnvSchema.properties)) {
    const value = values[name];
    if (value !== undefined && !spec['x-secret'] && spec['x-ownership'] === 'environment') owned[name] = value;
  }
  return sha256Hex(canonicalize(owned) ?? '{}');
}

/** Formats violations for stderr: one line each, never a secret's value. */
export function formatViolations(violations: EnvViolation[]): string {
  return violations.map((v) => `  ${v.variable}: ${v.rule} (${v.hint})`).join('\n');
}

function describeSchemaError(error: ErrorObject, specs: Record<string, VariableSpec>): EnvViolation {
  if (error.keyword === 'required') {
    const variable = String((error.params as { missingProperty: string }).missingProperty);
    return { variable, rule: 'required in prod (no default)', hint: specs[variable]?.description ?? 'set it explicitly' };
  }
  const variable = error.instancePath.replace(/^\//, '') || '(environment)';
  const spec = specs[variable];
  if (error.keyword === 'enum') return { variable, rule: `one of ${spec?.enum?.join('|')}`, hint: spec?.description ?? '' };
  if (error.keyword === 'pattern') {
    const prodSha = variable === 'RUNTIME_BUILD_SHA';
    return {
      variable,
      rule: prodSha ? 'format (prod: 7-40 lowercase hex)' : `format ${error.params.pattern as string}`,
      hint: spec?.description ?? '',
    };
  }
  if (error.keyword === 'minLength') return { variable, rule: `at least ${error.params.limit as number} characters`, hint: spec?.description ?? '' };
  if (error.keyword === 'not') return { variable, rule: 'must not be the documented development value in prod', hint: 'set a real secret' };
  return { variable, rule: error.keyword, hint: error.message ?? '' };
}

function dedupeViolations(violations: EnvViolation[]): EnvViolation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const key = `${v.variable}\0${v.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function suggest(name: string, specs: Record<string, VariableSpec>): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of Object.keys(specs)) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ? `; did you mean ${best}?` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
