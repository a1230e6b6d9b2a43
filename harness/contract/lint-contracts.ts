/**
 * Lints the local contracts (SPEC §4 "contract"): the OpenAPI document with
 * swagger-parser, the AsyncAPI document with @asyncapi/parser, the JSON Schemas with
 * ajv, and the migration file names. Returns every finding; empty means clean.
 */

import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Parser } from '@asyncapi/parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { contractPaths, loadContractMigrations, readJsonContract } from '../../contracts/contract-files.ts';
import { loadParityPolicy } from '../parity/parity-policy.ts';
import { loadDbRolePolicy } from '../roles/db-role-policy.ts';

export interface LintFinding {
  contract: string;
  message: string;
}

export async function lintContracts(paths: Partial<typeof contractPaths> = {}): Promise<LintFinding[]> {
  const files = { ...contractPaths, ...paths };
  const findings: LintFinding[] = [];
  try {
    await SwaggerParser.validate(files.openapi);
  } catch (error) {
    findings.push({ contract: files.openapi, message: (error as Error).message });
  }
  const { diagnostics } = await new Parser().parse(readFileSync(files.asyncapi, 'utf8'));
  for (const d of diagnostics) {
    if (d.severity === 0) findings.push({ contract: files.asyncapi, message: `${d.path.join('.')}: ${d.message}` });
  }
  for (const schemaPath of [files.runtimeEnvSchema, files.reportSchema, files.gateConfigSchema, files.parityPolicySchema, files.parityReportSchema, files.dbRolesSchema]) {
    try {
      const ajv = new Ajv2020({ strict: false });
      addFormats.default(ajv);
      ajv.compile(readJsonContract(schemaPath));
    } catch (error) {
      findings.push({ contract: schemaPath, message: (error as Error).message });
    }
  }
  try {
    loadDbRolePolicy(files.dbRoles);
  } catch (error) {
    findings.push({ contract: files.dbRoles, message: (error as Error).message });
  }
  try {
    loadParityPolicy(files.parityPolicy);
  } catch (error) {
    findings.push({ contract: files.parityPolicy, message: (error as Error).message });
  }
  try {
    loadContractMigrations(files.migrationsDir);
  } catch (error) {
    findings.push({ contract: files.migrationsDir, message: (error as Error).message });
  }
  return findings;
}
