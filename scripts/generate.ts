/**
 * Regenerates contracts/generated/ from the contracts (STYLE 1):
 *   runtime-api.ts        openapi-typescript, from runtime.openapi.yaml
 *   khala-frames.ts       json-schema-to-typescript, from khala.asyncapi.yaml components.schemas
 *   runtime-env.ts        json-schema-to-typescript, from runtime-env.schema.json
 *   report.ts             json-schema-to-typescript, from report.schema.json
 *   gate-config.ts        json-schema-to-typescript, from gate-config.schema.json
 *   schema-snapshot.json  the migrations applied to a throwaway embedded PostgreSQL, introspected
 *   README.md             the configuration table, from runtime-env.schema.json
 *
 * `--check` generates into memory and exits 1 naming every stale file.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import openapiTS, { astToString } from 'openapi-typescript';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { CONTRACTS_DIR, contractPaths, PACKAGE_ROOT } from '../contracts/contract-files.ts';
import { startEmbeddedDatabase } from '../reference-server/db/embedded-database.ts';
import { migrate } from '../reference-server/db/migrate.ts';
import { readSchemaSnapshot } from '../reference-server/db/schema-snapshot.ts';
import { withEnvTable } from './render-env-table.ts';

const header = (source: string) =>
  `// generated from contracts/${source} by \`npm run generate\`; do not edit.\n/* eslint-disable */\n`;

async function generateRuntimeApi(): Promise<string> {
  const ast = await openapiTS(pathToFileURL(contractPaths.openapi), { alphabetize: false });
  return header('runtime.openapi.yaml') + astToString(ast);
}

function renameRefs(node: unknown, from: string, to: string): unknown {
  if (Array.isArray(node)) return node.map((item) => renameRefs(item, from, to));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      out[key] = key === '$ref' && typeof value === 'string' ? value.replace(from, to) : renameRefs(value, from, to);
    }
    return out;
  }
  return node;
}

const compileOptions = { bannerComment: '', additionalProperties: true, strictIndexSignatures: false, format: true } as const;

async function generateKhalaFrames(): Promise<string> {
  const doc = parseYaml(readFileSync(contractPaths.asyncapi, 'utf8')) as { components: { schemas: Record<string, JSONSchema> } };
  const defs = renameRefs(doc.components.schemas, '#/components/schemas/', '#/definitions/') as Record<string, JSONSchema>;
  const names = Object.keys(defs);
  // Each definition gets its key as title so every one becomes a named, exported type.
  for (const name of names) defs[name] = { ...defs[name], title: name };
  const root: JSONSchema = { title: 'KhalaContract', definitions: defs, anyOf: names.map((n) => ({ $ref: `#/definitions/${n}` })) };
  const ts = await compile(root, 'KhalaContract', { ...compileOptions, unreachableDefinitions: true });
  return header('khala.asyncapi.yaml') + ts;
}

async function generateFromJsonSchema(path: string, name: string): Promise<string> {
  const schema = JSON.parse(readFileSync(path, 'utf8')) as JSONSchema & { $defs?: Record<string, JSONSchema> };
  const { $schema: _ignored, allOf: _prodRules, ...rest } = schema as Record<string, unknown>;
  const prepared = renameRefs(rest, '#/$defs/', '#/definitions/') as JSONSchema & { $defs?: Record<string, JSONSchema> };
  if (prepared.$defs) {
    prepared.definitions = Object.fromEntries(Object.entries(prepared.$defs).map(([k, v]) => [k, { ...v, title: k }]));
    delete prepared.$defs;
  }
  const ts = await compile({ ...prepared, title: name }, name, { ...compileOptions, unreachableDefinitions: true });
  return header(relative(CONTRACTS_DIR, path)) + ts;
}

async function generateSchemaSnapshot(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-snapshot-'));
  chmodSync(dir, 0o755); // the embedded server runs as the postgres user when we are root
  const db = await startEmbeddedDatabase({ dataDir: dir, databaseName: 'snapshot' });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => {});
  try {
    await migrate(pool, { buildSha: 'generate' });
    const snapshot = await readSchemaSnapshot(pool, 'runtime');
    return `${JSON.stringify({ $comment: 'generated from contracts/migrations by `npm run generate`; do not edit.', ...snapshot }, null, 2)}\n`;
  } finally {
    await pool.end();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function generateAll(): Promise<Record<string, string>> {
  const [api, frames, env, report, gateConfig, parityReport, parityPolicy, dbRoles, snapshot] = await Promise.all([
    generateRuntimeApi(),
    generateKhalaFrames(),
    generateFromJsonSchema(contractPaths.runtimeEnvSchema, 'RuntimeEnv'),
    generateFromJsonSchema(contractPaths.reportSchema, 'Report'),
    generateFromJsonSchema(contractPaths.gateConfigSchema, 'GateConfigFile'),
    generateFromJsonSchema(contractPaths.parityReportSchema, 'ParityReport'),
    generateFromJsonSchema(contractPaths.parityPolicySchema, 'ParityPolicyFile'),
    generateFromJsonSchema(contractPaths.dbRolesSchema, 'DbRolePolicy'),
    generateSchemaSnapshot(),
  ]);
  return {
    'runtime-api.ts': api,
    'khala-frames.ts': frames,
    'runtime-env.ts': env,
    'report.ts': report,
    'gate-config.ts': gateConfig,
    'parity-report.ts': parityReport,
    'parity-policy.ts': parityPolicy,
    'db-roles.ts': dbRoles,
    'schema-snapshot.json': snapshot,
  };
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const files = await generateAll();
  const stale: string[] = [];
  mkdirSync(contractPaths.generatedDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const path = join(contractPaths.generatedDir, name);
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (check) stale.push(relative(PACKAGE_ROOT, path));
    else writeFileSync(path, content);
  }
  const readmePath = join(PACKAGE_ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const rendered = withEnvTable(readme);
  if (rendered !== readme) {
    if (check) stale.push('README.md (configuration table)');
    else writeFileSync(readmePath, rendered);
  }
  if (check && stale.length > 0) {
    console.error(`generated files are stale (run \`npm run generate\` and commit):\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
  console.log(check ? 'generated files are up to date' : `wrote ${Object.keys(files).length} files to contracts/generated/`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(2);
  });
}
