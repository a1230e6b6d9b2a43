/**
 * The roles lane (SPEC §4 "roles", §2.5): verifies the live database at the target's
 * `db_url` against contracts/db-roles.json, one check per kind of violation.
 * `runtime-gate db roles apply` is how a database is brought to the policy.
 */
import { type CheckContext, type CheckDefinition, CheckSkip, expectThat } from '../check-runner.ts';
import { withDatabase } from '../drift/with-database.ts';
import type { DbRolePolicy } from '../roles/db-role-policy.ts';
import { type RoleViolation, type RoleViolationRule, verifyDbRoles } from '../roles/verify-db-roles.ts';

export interface RolesLaneOptions {
  /** Default: contracts/db-roles.json. */
  policy?: DbRolePolicy;
}

const CHECKS: { id: string; rules: RoleViolationRule[]; description: string }[] = [
  { id: 'roles.policy.roles-exist', rules: ['missing_role', 'superuser'], description: 'every group role of contracts/db-roles.json exists and is not a superuser' },
  { id: 'roles.policy.schema-owner', rules: ['schema_owner'], description: 'schema runtime is owned by oa_runtime_owner' },
  { id: 'roles.policy.required-grants', rules: ['missing_grant'], description: 'every role has the privileges the policy grants it (e.g. oa_khala_ro SELECT on runtime.sync_*)' },
  { id: 'roles.policy.forbidden-grants', rules: ['forbidden_grant'], description: 'no role has a privilege the policy forbids (e.g. writes by oa_khala_ro or oa_control_rw in runtime.*)' },
  { id: 'roles.policy.public-nothing', rules: ['public_grant'], description: 'PUBLIC has nothing on schema runtime' },
];

export function rolesLane(_inputs?: unknown, options: RolesLaneOptions = {}): CheckDefinition[] {
  // Every check reads the same catalog state; verify once per run.
  let verified: Promise<RoleViolation[]> | undefined;
  const violationsOf = (ctx: CheckContext): Promise<RoleViolation[]> => {
    const url = ctx.target.db_url;
    if (!url) throw new CheckSkip('missing_input:db_url');
    verified ??= withDatabase(url, (client) => verifyDbRoles(client, options.policy ? { policy: options.policy } : {}), { signal: ctx.signal });
    return verified;
  };
  return CHECKS.map(({ id, rules, description }) => ({
    id,
    lane: 'roles' as const,
    description,
    async run(ctx: CheckContext) {
      const found = (await violationsOf(ctx)).filter((v) => rules.includes(v.rule));
      for (const v of found) ctx.log(`violation ${v.rule}: ${v.message}`);
      expectThat(found.length === 0, `${found.length} violation(s) of contracts/db-roles.json: ${found.map((v) => v.message).join('; ')}`);
    },
  }));
}
