/**
 * The parity policy (contracts/parity-policy.json, validated against
 * contracts/parity-policy.schema.json on load): how observations are normalized and how
 * each diff is classified `critical | warning | ignore` by component and JSON-pointer glob.
 *
 * @see SPEC §4 "parity"
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { contractPaths } from '../../contracts/contract-files.ts';
import type { ParityPolicyFile, Rule, Severity } from '../../contracts/generated/parity-policy.ts';

export type { ParityPolicyFile, Severity };
export type PolicyRule = Rule;
/** What kind of difference a diff is: both present but different, only in the candidate, only in the baseline. */
export type ChangeKind = NonNullable<Rule['change']>;

export const PARITY_POLICY_PATH = contractPaths.parityPolicy;
export const PARITY_POLICY_SCHEMA_PATH = contractPaths.parityPolicySchema;

export class ParityPolicyError extends Error {
  override readonly name = 'ParityPolicyError';
}

interface CompiledRule {
  component: string;
  path: RegExp;
  change: ChangeKind | undefined;
  severity: Severity;
}

const CACHE_LIMIT = 20_000;

/** A loaded, compiled policy; `classify` is cached per (component, change, path). */
export class ParityPolicy {
  private readonly rules: CompiledRule[];
  private readonly cache = new Map<string, Severity>();

  constructor(readonly file: ParityPolicyFile) {
    this.rules = file.rules.map((rule) => ({ component: rule.component, path: compilePointerGlob(rule.path), change: rule.change, severity: rule.severity }));
  }

  /** Severity of a diff at `path` (a JSON pointer, "" for the whole observation) of `component`. */
  classify(component: string, path: string, change: ChangeKind): Severity {
    const key = `${component}\u0000${change}\u0000${path}`;
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    let severity = this.file.default_severity;
    for (const rule of this.rules) {
      if (rule.component !== '*' && rule.component !== component) continue;
      if (rule.change !== undefined && rule.change !== change) continue;
      if (!rule.path.test(path)) continue;
      severity = rule.severity;
      break;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, severity);
    return severity;
  }
}

/**
 * Compiles a JSON-pointer glob: `*` within a segment matches any characters but `/`,
 * a `**` segment matches zero or more whole segments; "" matches only the root.
 */
export function compilePointerGlob(glob: string): RegExp {
  if (glob === '') return /^$/;
  if (!glob.startsWith('/')) throw new ParityPolicyError(`path glob ${JSON.stringify(glob)} must be "" or start with /`);
  const parts = glob
    .slice(1)
    .split('/')
    .map((segment) => (segment === '**' ? '(?:/[^/]*)*' : `/${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}`));
  return new RegExp(`^${parts.join('')}$`);
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`).join('; ');
}

let validatePolicy: ((value: unknown) => boolean) & { errors?: ErrorObject[] | null } = undefined as never;

/** Validates a policy document against contracts/parity-policy.schema.json and its regexes. */
export function parseParityPolicy(value: unknown, source = 'parity policy'): ParityPolicy {
  if (!validatePolicy) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    validatePolicy = ajv.compile(JSON.parse(readFileSync(PARITY_POLICY_SCHEMA_PATH, 'utf8')));
  }
  if (!validatePolicy(value)) throw new ParityPolicyError(`${source} does not match contracts/parity-policy.schema.json: ${describeErrors(validatePolicy.errors)}`);
  const file = value as ParityPolicyFile;
  for (const pattern of file.normalize.id_patterns) {
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new ParityPolicyError(`${source}: normalize.id_patterns ${JSON.stringify(pattern)} is not a regular expression: ${(error as Error).message}`);
    }
  }
  return new ParityPolicy(file);
}

/** Loads and validates a policy file (default contracts/parity-policy.json). */
export function loadParityPolicy(path = PARITY_POLICY_PATH): ParityPolicy {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ParityPolicyError(`${path}: ${(error as Error).message}`);
  }
  return parseParityPolicy(value, path);
}
