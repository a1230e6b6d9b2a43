/**
 * The DB role isolation policy, contracts/db-roles.json (SPEC §2.5, seed 001), and the
 * expansion of its table patterns against a live schema.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { contractPaths, readJsonContract } from '../../contracts/contract-files.ts';
import type { DbRolePolicy, PrivilegeRule, RolePolicy, TablePrivilege } from '../../contracts/generated/db-roles.ts';
import { formatAjvErrors } from '../../contracts/openapi-operations.ts';

export type { DbRolePolicy, PrivilegeRule, RolePolicy, TablePrivilege };
export const ALL_TABLE_PRIVILEGES: TablePrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

let validatePolicy: ReturnType<Ajv2020['compile']> | undefined;

/** Loads the policy, validated against contracts/db-roles.schema.json (a misspelt key must not silently match nothing). */
export function loadDbRolePolicy(path: string = contractPaths.dbRoles): DbRolePolicy {
  validatePolicy ??= new Ajv2020({ allErrors: true, strict: false }).compile(readJsonContract(contractPaths.dbRolesSchema));
  const value = readJsonContract<DbRolePolicy>(path);
  if (!validatePolicy(value)) {
    throw new Error(`${path} does not match contracts/db-roles.schema.json: ${formatAjvErrors(validatePolicy.errors).map((v) => `${v.path} ${v.message}`).join('; ')}`);
  }
  const { $comment: _, ...policy } = value;
  return policy;
}

/**
 * The same policy with every role name prefixed. Roles are global to a PostgreSQL
 * cluster, so tests that create, drop or alter roles use a prefix of their own.
 */
export function withRolePrefix(policy: DbRolePolicy, prefix: string): DbRolePolicy {
  const [first, ...rest] = policy.roles.map((role) => ({ ...role, name: `${prefix}${role.name}` }));
  return { ...policy, roles: [first!, ...rest] };
}

export function expandPrivileges(privileges: PrivilegeRule['privileges']): TablePrivilege[] {
  if (!privileges) return [];
  return privileges.includes('ALL') ? [...ALL_TABLE_PRIVILEGES] : (privileges as TablePrivilege[]);
}

/** The tables of `schema` a rule's `tables` names (`*` or glob patterns such as `sync_*`). */
export function matchTables(rule: PrivilegeRule, tables: string[]): string[] {
  if (rule.tables === undefined) return [];
  if (rule.tables === '*') return tables;
  const patterns = rule.tables.map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`));
  return tables.filter((t) => patterns.some((p) => p.test(t)));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A double-quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
