/**
 * contracts/db-roles.json is validated on load: a misspelt key would otherwise turn a
 * forbidden rule into one that matches nothing, and the roles lane could not fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contractPaths, readJsonContract } from '../../contracts/contract-files.ts';
import { loadDbRolePolicy } from '../../harness/roles/db-role-policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-db-roles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policyFile(change: (policy: any) => void): string {
  const policy = structuredClone(readJsonContract<any>(contractPaths.dbRoles));
  change(policy);
  const path = join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(policy));
  return path;
}

describe('loadDbRolePolicy', () => {
  it('loads the contract policy', () => {
    expect(loadDbRolePolicy().roles.map((r) => r.name)).toEqual(['oa_runtime_owner', 'oa_runtime_rw', 'oa_khala_ro', 'oa_control_rw']);
  });

  it.each([
    ['a misspelt privileges key', (p: any) => {
        p.roles[1].forbidden[0].privilges = p.roles[1].forbidden[0].privileges;
      }, /roles\[1\].forbidden\[0\] unknown field privilges/],
    ['an unknown privilege', (p: any) => void p.roles[1].forbidden[0].privileges.push('DROP'), /privileges/],
    ['an empty privilege list', (p: any) => {
        p.roles[2].grants[0].privileges = [];
      }, /privileges/],
    ['a missing public section', (p: any) => void delete p.public, /public/],
  ])('refuses %s', (_name, change, message) => {
    expect(() => loadDbRolePolicy(policyFile(change))).toThrow(message);
  });
});
