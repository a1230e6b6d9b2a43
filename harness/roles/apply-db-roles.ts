/**
 * `runtime-gate db roles apply [--dry-run]` (SPEC §2.5, seed 001
 * apply-db-role-isolation.sh): brings a database to contracts/db-roles.json, idempotently.
 * Missing group roles are created NOLOGIN, schema ownership is set, forbidden privileges
 * are revoked and required ones granted. Running it twice changes nothing the second time.
 */
import type pg from 'pg';
import type { Queryable } from '../drift/migration-drift.ts';
import { type DbRolePolicy, expandPrivileges, loadDbRolePolicy, matchTables, type PrivilegeRule, quoteIdent } from './db-role-policy.ts';

export interface ApplyDbRolesOptions {
  /** Only plan and return the SQL; change nothing. Default false. */
  dryRun?: boolean;
  /** Default: contracts/db-roles.json. */
  policy?: DbRolePolicy;
  /** Called with each statement before it runs (or instead, in a dry run). */
  onStatement?: (sql: string) => void;
}

export interface ApplyDbRolesResult {
  statements: string[];
  applied: boolean;
  /** Rules the plan could not express on this database, e.g. a schema that does not exist. */
  notes: string[];
}

interface Catalog {
  roles: Set<string>;
  schemaOwners: Map<string, string>;
  tables: Map<string, string[]>;
}

async function readCatalog(db: Queryable, policy: DbRolePolicy): Promise<Catalog> {
  const { rows: roles } = await db.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [policy.roles.map((r) => r.name)]);
  const { rows: schemas } = await db.query<{ nspname: string; owner: string }>('SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace');
  const { rows: tables } = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') ORDER BY n.nspname, c.relname`,
  );
  const bySchema = new Map<string, string[]>();
  for (const t of tables) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t.name]);
  return { roles: new Set(roles.map((r) => r.rolname)), schemaOwners: new Map(schemas.map((s) => [s.nspname, s.owner])), tables: bySchema };
}

/** GRANT or REVOKE statements for one rule, for a grantee (a quoted role or PUBLIC). */
function ruleStatements(verb: 'GRANT' | 'REVOKE', rule: PrivilegeRule, grantee: string, catalog: Catalog, notes: string[]): string[] {
  const schema = quoteIdent(rule.schema);
  const toFrom = verb === 'GRANT' ? 'TO' : 'FROM';
  if (!catalog.schemaOwners.has(rule.schema)) {
    notes.push(`schema ${rule.schema} does not exist: ${verb} for ${grantee} on it skipped`);
    return [];
  }
  const statements: string[] = [];
  const schemaPrivileges = [...(rule.usage ? ['USAGE'] : []), ...(rule.create ? ['CREATE'] : [])];
  if (schemaPrivileges.length > 0) statements.push(`${verb} ${schemaPrivileges.join(', ')} ON SCHEMA ${schema} ${toFrom} ${grantee};`);
  const privileges = expandPrivileges(rule.privileges);
  if (rule.tables !== undefined && privileges.length > 0) {
    const privilegeList = privileges.length === 7 && verb === 'GRANT' ? 'ALL' : privileges.join(', ');
    if (rule.tables === '*') statements.push(`${verb} ${privilegeList} ON ALL TABLES IN SCHEMA ${schema} ${toFrom} ${grantee};`);
    else {
      const tables = matchTables(rule, catalog.tables.get(rule.schema) ?? []);
      if (tables.length === 0) notes.push(`no table of schema ${rule.schema} matches ${rule.tables.join(', ')}: ${verb} for ${grantee} skipped`);
      for (const table of tables) statements.push(`${verb} ${privilegeList} ON TABLE ${schema}.${quoteIdent(table)} ${toFrom} ${grantee};`);
    }
  }
  return statements;
}

/** The statements that bring the database to the policy (reads the catalog, changes nothing). */
export async function planDbRoles(db: Queryable, policy: DbRolePolicy = loadDbRolePolicy()): Promise<{ statements: string[]; notes: string[] }> {
  const catalog = await readCatalog(db, policy);
  const statements: string[] = [];
  const notes: string[] = [];
  for (const role of policy.roles) {
    if (!catalog.roles.has(role.name)) {
      // Roles are cluster-global: another apply may create it concurrently, which is fine.
      const literal = `'${role.name.replace(/'/g, "''")}'`;
      statements.push(
        `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal}) THEN CREATE ROLE ${quoteIdent(role.name)} NOLOGIN; END IF; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;`,
      );
    }
  }
  for (const role of policy.roles) {
    const grantee = quoteIdent(role.name);
    for (const schema of role.owns_schemas ?? []) {
      const owner = catalog.schemaOwners.get(schema);
      if (owner === undefined) notes.push(`schema ${schema} does not exist: ownership by ${role.name} not set`);
      else if (owner !== role.name) statements.push(`ALTER SCHEMA ${quoteIdent(schema)} OWNER TO ${grantee};`);
    }
    for (const rule of role.forbidden) statements.push(...ruleStatements('REVOKE', rule, grantee, catalog, notes));
    for (const rule of role.grants) statements.push(...ruleStatements('GRANT', rule, grantee, catalog, notes));
  }
  for (const rule of policy.public.forbidden) statements.push(...ruleStatements('REVOKE', rule, 'PUBLIC', catalog, notes));
  return { statements, notes };
}

/**
 * Applies contracts/db-roles.json in one transaction (or, with `dryRun`, only returns
 * the SQL). Needs a user that may create roles and own the schema (e.g. the database owner
 * with CREATEROLE, or a superuser).
 */
export async function applyDbRoles(pool: pg.Pool, options: ApplyDbRolesOptions = {}): Promise<ApplyDbRolesResult> {
  const policy = options.policy ?? loadDbRolePolicy();
  const client = await pool.connect();
  try {
    const { statements, notes } = await planDbRoles(client, policy);
    if (options.dryRun) {
      for (const sql of statements) options.onStatement?.(sql);
      return { statements, applied: false, notes };
    }
    await client.query('BEGIN');
    try {
      for (const sql of statements) {
        options.onStatement?.(sql);
        await client.query(sql);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return { statements, applied: true, notes };
  } finally {
    client.release();
  }
}
