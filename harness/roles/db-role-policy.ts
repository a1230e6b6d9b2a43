/**
 * The DB role isolation policy, contracts/db-roles.json (SPEC §2.5, seed 001), and the
 * expansion of its table patterns against a live schema.
 */
import { contractPaths, readJsonContract } from '../../contracts/contract-files.ts';

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE' | 'REFERENCES' | 'TRIGGER';
export const ALL_TABLE_PRIVILEGES: TablePrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

/** One rule: privileges on tables of a schema (`*`, or names with `*` wildcards). */
export interface PrivilegeRule {
  schema: string;
  /** USAGE on the schema. */
  usage?: boolean;
  /** CREATE on the schema. */
  create?: boolean;
  tables?: '*' | string[];
  privileges?: (TablePrivilege | 'ALL')[];
}

export interface RolePolicy {
  name: string;
  purpose?: string;
  owns_schemas?: string[];
  grants: PrivilegeRule[];
  forbidden: PrivilegeRule[];
}

export interface DbRolePolicy {
  schema: 'runtime-gate.db-roles.v1';
  runtime_schema: string;
  control_schema: string;
  roles: RolePolicy[];
  public: { forbidden: PrivilegeRule[] };
}

export function loadDbRolePolicy(path: string = contractPaths.dbRoles): DbRolePolicy {
  const { $comment: _, ...policy } = readJsonContract<DbRolePolicy & { $comment?: string }>(path);
  return policy;
}

/**
 * The same policy with every role name prefixed. Roles are global to a PostgreSQL
 * cluster, so tests that create, drop or alter roles use a prefix of their own.
 */
export function withRolePrefix(policy: DbRolePolicy, prefix: string): DbRolePolicy {
  return { ...policy, roles: policy.roles.map((role) => ({ ...role, name: `${prefix}${role.name}` })) };
}

export function expandPrivileges(privileges: PrivilegeRule['privileges'] = []): TablePrivilege[] {
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
