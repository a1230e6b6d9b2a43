/**
 * `runtime-gate db roles verify` and the roles lane (SPEC §2.5, seed 001
 * verify-db-role-isolation.sh): every way a database differs from contracts/db-roles.json,
 * each as a named violation. Privileges are the effective ones (has_*_privilege), so a
 * write reached through role membership or a PUBLIC grant counts as much as a direct one.
 */
import type { Queryable } from '../drift/migration-drift.ts';
import { ALL_TABLE_PRIVILEGES, type DbRolePolicy, expandPrivileges, loadDbRolePolicy, matchTables, type PrivilegeRule } from './db-role-policy.ts';

export type RoleViolationRule = 'missing_role' | 'superuser' | 'schema_owner' | 'missing_grant' | 'forbidden_grant' | 'public_grant';

export interface RoleViolation {
  rule: RoleViolationRule;
  /** The role, or `PUBLIC`. */
  role: string;
  /** e.g. `oa_khala_ro: forbidden INSERT on runtime.sync_stream_events`. */
  message: string;
}

export interface VerifyDbRolesOptions {
  /** Default: contracts/db-roles.json. */
  policy?: DbRolePolicy;
}

interface Facts {
  roles: Map<string, { superuser: boolean }>;
  schemaOwners: Map<string, string>;
  tables: Map<string, string[]>;
  /** `${role}\0${schema}\0${table}\0${privilege}` the role effectively has. */
  tablePrivileges: Set<string>;
  /** `${role}\0${schema}\0${USAGE|CREATE}`. */
  schemaPrivileges: Set<string>;
  publicSchema: { schema: string; privilege: string }[];
  publicTables: { schema: string; table: string; privilege: string }[];
}

async function readFacts(db: Queryable, policy: DbRolePolicy): Promise<Facts> {
  const names = policy.roles.map((r) => r.name);
  const schemas = [...new Set([...policy.roles.flatMap((r) => [...r.grants, ...r.forbidden].map((g) => g.schema)), ...policy.public.forbidden.map((g) => g.schema), policy.runtime_schema])];
  const { rows: roles } = await db.query<{ rolname: string; rolsuper: boolean }>('SELECT rolname, rolsuper FROM pg_roles WHERE rolname = ANY($1)', [names]);
  const { rows: owners } = await db.query<{ nspname: string; owner: string }>('SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = ANY($1)', [
    [...schemas, ...policy.roles.flatMap((r) => r.owns_schemas ?? [])],
  ]);
  const { rows: tables } = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) ORDER BY 1, 2`,
    [schemas],
  );
  const { rows: tablePrivileges } = await db.query<{ role: string; schema: string; table: string; privilege: string }>(
    `SELECT r.rolname AS role, n.nspname AS schema, c.relname AS table, p.privilege
       FROM pg_roles r
      CROSS JOIN pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN unnest($3::text[]) AS p(privilege)
      WHERE r.rolname = ANY($1) AND n.nspname = ANY($2) AND c.relkind IN ('r', 'p')
        AND has_table_privilege(r.oid, c.oid, p.privilege)`,
    [names, schemas, ALL_TABLE_PRIVILEGES],
  );
  const { rows: schemaPrivileges } = await db.query<{ role: string; schema: string; privilege: string }>(
    `SELECT r.rolname AS role, n.nspname AS schema, p.privilege
       FROM pg_roles r CROSS JOIN pg_namespace n CROSS JOIN unnest(ARRAY['USAGE', 'CREATE']) AS p(privilege)
      WHERE r.rolname = ANY($1) AND n.nspname = ANY($2) AND has_schema_privilege(r.oid, n.oid, p.privilege)`,
    [names, schemas],
  );
  // PUBLIC is grantee 0 in an ACL; only direct grants to PUBLIC matter here.
  const { rows: publicSchema } = await db.query<{ schema: string; privilege: string }>(
    `SELECT n.nspname AS schema, a.privilege_type AS privilege FROM pg_namespace n, aclexplode(n.nspacl) a
      WHERE a.grantee = 0 AND n.nspname = ANY($1) ORDER BY 1, 2`,
    [schemas],
  );
  const { rows: publicTables } = await db.query<{ schema: string; table: string; privilege: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, a.privilege_type AS privilege
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
      WHERE a.grantee = 0 AND n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1, 2, 3`,
    [schemas],
  );
  const bySchema = new Map<string, string[]>();
  for (const t of tables) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t.name]);
  return {
    roles: new Map(roles.map((r) => [r.rolname, { superuser: r.rolsuper }])),
    schemaOwners: new Map(owners.map((o) => [o.nspname, o.owner])),
    tables: bySchema,
    tablePrivileges: new Set(tablePrivileges.map((p) => `${p.role}\0${p.schema}\0${p.table}\0${p.privilege}`)),
    schemaPrivileges: new Set(schemaPrivileges.map((p) => `${p.role}\0${p.schema}\0${p.privilege}`)),
    publicSchema,
    publicTables,
  };
}

/** Every difference from the policy; [] when the database conforms. */
export async function verifyDbRoles(db: Queryable, options: VerifyDbRolesOptions = {}): Promise<RoleViolation[]> {
  const policy = options.policy ?? loadDbRolePolicy();
  const facts = await readFacts(db, policy);
  const violations: RoleViolation[] = [];
  const add = (rule: RoleViolationRule, role: string, message: string) => violations.push({ rule, role, message: `${role}: ${message}` });

  for (const role of policy.roles) {
    const found = facts.roles.get(role.name);
    if (!found) {
      add('missing_role', role.name, 'role does not exist');
      continue;
    }
    if (found.superuser) add('superuser', role.name, 'is a superuser, which bypasses every privilege boundary');
    for (const schema of role.owns_schemas ?? []) {
      const owner = facts.schemaOwners.get(schema);
      if (owner === undefined) add('schema_owner', role.name, `schema ${schema} does not exist`);
      else if (owner !== role.name) add('schema_owner', role.name, `schema ${schema} is owned by ${owner}, expected ${role.name}`);
    }
    for (const rule of role.grants) {
      for (const missing of privilegesOf(rule, facts, role.name, false)) add('missing_grant', role.name, `missing ${missing}`);
    }
    for (const rule of role.forbidden) {
      for (const present of privilegesOf(rule, facts, role.name, true)) add('forbidden_grant', role.name, `forbidden ${present}`);
    }
  }
  for (const rule of policy.public.forbidden) {
    const schemaForbidden = [...(rule.usage ? ['USAGE'] : []), ...(rule.create ? ['CREATE'] : [])];
    for (const p of facts.publicSchema) {
      if (p.schema === rule.schema && schemaForbidden.includes(p.privilege)) add('public_grant', 'PUBLIC', `${p.privilege} on schema ${p.schema}`);
    }
    const tableForbidden = new Set<string>(expandPrivileges(rule.privileges));
    const tables = new Set(matchTables(rule, facts.tables.get(rule.schema) ?? []));
    for (const p of facts.publicTables) {
      if (p.schema === rule.schema && (tables.has(p.table) || rule.tables === '*') && tableForbidden.has(p.privilege)) add('public_grant', 'PUBLIC', `${p.privilege} on ${p.schema}.${p.table}`);
    }
  }
  return violations;
}

/**
 * For a required rule (`present` false): the privileges the role lacks. For a forbidden
 * rule (`present` true): the privileges it has. Each as `SELECT on runtime.runs`.
 */
function privilegesOf(rule: PrivilegeRule, facts: Facts, role: string, present: boolean): string[] {
  const out: string[] = [];
  if (!facts.schemaOwners.has(rule.schema)) {
    // Nothing can be granted on a schema that does not exist; a required grant is missing.
    if (!present) out.push(`privileges on schema ${rule.schema} (it does not exist)`);
    return out;
  }
  for (const privilege of [...(rule.usage ? ['USAGE'] : []), ...(rule.create ? ['CREATE'] : [])]) {
    if (facts.schemaPrivileges.has(`${role}\0${rule.schema}\0${privilege}`) === present) out.push(`${privilege} on schema ${rule.schema}`);
  }
  const privileges = expandPrivileges(rule.privileges);
  if (rule.tables === undefined || privileges.length === 0) return out;
  const tables = matchTables(rule, facts.tables.get(rule.schema) ?? []);
  if (tables.length === 0 && !present && rule.tables !== '*') out.push(`${privileges.join(', ')} on ${rule.schema}.{${rule.tables.join(', ')}} (no such table)`);
  for (const table of tables) {
    for (const privilege of privileges) {
      if (facts.tablePrivileges.has(`${role}\0${rule.schema}\0${table}\0${privilege}`) === present) out.push(`${privilege} on ${rule.schema}.${table}`);
    }
  }
  return out;
}
