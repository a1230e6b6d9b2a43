// generated from contracts/db-roles.schema.json by `npm run generate`; do not edit.
/* eslint-disable */
/**
 * This interface was referenced by `DbRolePolicy`'s JSON-Schema
 * via the `definition` "TablePrivilege".
 */
export type TablePrivilege = "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "TRUNCATE" | "REFERENCES" | "TRIGGER";

/**
 * The DB role isolation policy, contracts/db-roles.json (SPEC §2.5, seed 001). Closed objects: a misspelt key would otherwise make a rule match nothing, and a check built on it could not fail.
 */
export interface DbRolePolicy {
  $comment?: string;
  schema: "runtime-gate.db-roles.v1";
  runtime_schema: string;
  control_schema: string;
  /**
   * @minItems 1
   */
  roles: [RolePolicy, ...RolePolicy[]];
  public: {
    $comment?: string;
    forbidden: PrivilegeRule[];
  };
}
/**
 * This interface was referenced by `DbRolePolicy`'s JSON-Schema
 * via the `definition` "RolePolicy".
 */
export interface RolePolicy {
  name: string;
  purpose?: string;
  owns_schemas?: string[];
  grants: PrivilegeRule[];
  forbidden: PrivilegeRule[];
}
/**
 * Privileges on tables of a schema (`*`, or names with `*` wildcards), and USAGE/CREATE on the schema.
 *
 * This interface was referenced by `DbRolePolicy`'s JSON-Schema
 * via the `definition` "PrivilegeRule".
 */
export interface PrivilegeRule {
  schema: string;
  usage?: boolean;
  create?: boolean;
  tables?: "*" | [string, ...string[]];
  /**
   * @minItems 1
   */
  privileges?: [TablePrivilege | "ALL", ...(TablePrivilege | "ALL")[]];
}
