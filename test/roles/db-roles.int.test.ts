/**
 * applyDbRoles / verifyDbRoles on a real database (SPEC §2.5, seed 001). Roles are global
 * to the PostgreSQL cluster that every test file shares, so these tests use the contract
 * policy with a role-name prefix of their own (and drop those roles at the end): no other
 * test file can see or break them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { applyDbRoles, planDbRoles } from '../../harness/roles/apply-db-roles.ts';
import { loadDbRolePolicy, withRolePrefix } from '../../harness/roles/db-role-policy.ts';
import { verifyDbRoles } from '../../harness/roles/verify-db-roles.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { adminUrl, createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const prefix = `t${randomBytes(3).toString('hex')}_`;
const policy = withRolePrefix(loadDbRolePolicy(), prefix);
const owner = `${prefix}oa_runtime_owner`;
const rw = `${prefix}oa_runtime_rw`;
const khala = `${prefix}oa_khala_ro`;
const control = `${prefix}oa_control_rw`;

const opened: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.drop()));
});
afterAll(async () => {
  // The databases holding their grants are gone, so the prefixed roles can be dropped.
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    for (const role of policy.roles) await admin.query(`DROP ROLE IF EXISTS "${role.name}"`);
  } finally {
    await admin.end();
  }
});

async function migratedDatabase(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  opened.push(db);
  await migrate(db.pool, { buildSha: 'dev' });
  return db;
}

async function conformingDatabase(label: string): Promise<TestDatabase> {
  const db = await migratedDatabase(label);
  await applyDbRoles(db.pool, { policy });
  expect(await verifyDbRoles(db.pool, { policy })).toEqual([]);
  return db;
}

describe('db roles apply', () => {
  it('a dry run prints the SQL and changes nothing', async () => {
    const db = await migratedDatabase('roles_dry_run');
    const printed: string[] = [];
    const result = await applyDbRoles(db.pool, { policy, dryRun: true, onStatement: (sql) => printed.push(sql) });
    expect(result.applied).toBe(false);
    expect(printed).toEqual(result.statements);
    expect(printed).toContain(`ALTER SCHEMA "runtime" OWNER TO "${owner}";`);
    expect(printed).toContain(`GRANT SELECT ON TABLE "runtime"."sync_stream_events" TO "${khala}";`);
    expect(printed).toContain('REVOKE USAGE, CREATE ON SCHEMA "runtime" FROM PUBLIC;');
    expect(printed.filter((sql) => sql.includes('CREATE ROLE'))).toHaveLength(4);
    // The control schema does not exist in the reference database: its rules are noted, not guessed.
    expect(result.notes.some((n) => n.startsWith('schema control does not exist'))).toBe(true);
    const violations = await verifyDbRoles(db.pool, { policy });
    expect(violations.filter((v) => v.rule === 'missing_role').map((v) => v.role).sort()).toEqual([control, khala, owner, rw].sort());
  });

  it('brings a database to the policy and is idempotent', async () => {
    const db = await conformingDatabase('roles_apply');
    const again = await planDbRoles(db.pool, policy);
    expect(again.statements.filter((sql) => sql.includes('CREATE ROLE') || sql.startsWith('ALTER SCHEMA'))).toEqual([]);
    await applyDbRoles(db.pool, { policy });
    expect(await verifyDbRoles(db.pool, { policy })).toEqual([]);
  });
});

describe('db roles verify names every violation', () => {
  const cases: [string, string, { rule: string; role: string; message: string }[]][] = [
    ['a missing role', `DROP ROLE "${control}"`, [{ rule: 'missing_role', role: control, message: `${control}: role does not exist` }]],
    [
      'a wrong schema owner',
      'ALTER SCHEMA runtime OWNER TO CURRENT_USER',
      [{ rule: 'schema_owner', role: owner, message: expect.stringMatching(new RegExp(`^${owner}: schema runtime is owned by \\w+, expected ${owner}$`)) as unknown as string }],
    ],
    [
      'a forbidden write grant (drifted role grant)',
      `GRANT INSERT, UPDATE ON runtime.sync_stream_events TO "${khala}"`,
      [
        { rule: 'forbidden_grant', role: khala, message: `${khala}: forbidden INSERT on runtime.sync_stream_events` },
        { rule: 'forbidden_grant', role: khala, message: `${khala}: forbidden UPDATE on runtime.sync_stream_events` },
      ],
    ],
    ['a missing required select', `REVOKE SELECT ON runtime.sync_run_summaries FROM "${khala}"`, [{ rule: 'missing_grant', role: khala, message: `${khala}: missing SELECT on runtime.sync_run_summaries` }]],
    ['TRUNCATE for the runtime service', `GRANT TRUNCATE ON runtime.runs TO "${rw}"`, [{ rule: 'forbidden_grant', role: rw, message: `${rw}: forbidden TRUNCATE on runtime.runs` }]],
    [
      'anything granted to PUBLIC',
      'GRANT USAGE ON SCHEMA runtime TO PUBLIC; GRANT SELECT ON runtime.runs TO PUBLIC',
      [
        { rule: 'public_grant', role: 'PUBLIC', message: 'PUBLIC: USAGE on schema runtime' },
        { rule: 'public_grant', role: 'PUBLIC', message: 'PUBLIC: SELECT on runtime.runs' },
      ],
    ],
  ];

  it.each(cases)('%s', async (_name, sql, expected) => {
    const db = await conformingDatabase('roles_violation');
    await db.pool.query(sql);
    expect(await verifyDbRoles(db.pool, { policy })).toEqual(expected);
  });

  it('a write reached through role membership counts (effective privileges)', async () => {
    const db = await conformingDatabase('roles_membership');
    await db.pool.query(`GRANT "${rw}" TO "${control}"`);
    try {
      const violations = await verifyDbRoles(db.pool, { policy });
      expect(violations.length).toBeGreaterThan(0);
      expect(violations.every((v) => v.rule === 'forbidden_grant' && v.role === control)).toBe(true);
      expect(violations.map((v) => v.message)).toContain(`${control}: forbidden INSERT on runtime.run_events`);
    } finally {
      // Membership is cluster-global: undo it so the roles can be dropped.
      await db.pool.query(`REVOKE "${rw}" FROM "${control}"`);
    }
  });

  it('apply repairs a drifted database', async () => {
    const db = await conformingDatabase('roles_repair');
    await db.pool.query(`GRANT INSERT ON runtime.sync_stream_events TO "${khala}"; GRANT SELECT ON runtime.runs TO PUBLIC; ALTER SCHEMA runtime OWNER TO CURRENT_USER`);
    expect((await verifyDbRoles(db.pool, { policy })).length).toBe(3);
    await applyDbRoles(db.pool, { policy });
    expect(await verifyDbRoles(db.pool, { policy })).toEqual([]);
  });
});
