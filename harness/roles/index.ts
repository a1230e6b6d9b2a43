export { type ApplyDbRolesOptions, type ApplyDbRolesResult, applyDbRoles, planDbRoles } from './apply-db-roles.ts';
export { type DbRolePolicy, loadDbRolePolicy, type PrivilegeRule, type RolePolicy, withRolePrefix } from './db-role-policy.ts';
export { type RoleViolation, type RoleViolationRule, type VerifyDbRolesOptions, verifyDbRoles } from './verify-db-roles.ts';
