import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { contractPaths, PACKAGE_ROOT, readJsonContract } from '../../contracts/contract-files.ts';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { lintContracts } from '../../harness/contract/lint-contracts.ts';
import { toRuntimeConfig } from '../../reference-server/config/runtime-config.ts';
import { loadRuntimeEnv } from '../../reference-server/config/runtime-env.ts';
import { ERROR_STATUS } from '../../reference-server/http/api-error.ts';
import { createLogger } from '../../reference-server/logger.ts';
import { createReferenceServer } from '../../reference-server/server.ts';
import { withEnvTable } from '../../scripts/render-env-table.ts';

/**
 * Operations the contract declares that the reference server does not serve yet, each
 * with the issue that delivers it. Adding a handler fails this test until the entry goes.
 */
const NOT_YET_SERVED: Record<string, string> = {
};

function stripDocs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripDocs);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => !['description', 'examples', 'example', 'title'].includes(key) && !key.startsWith('x-'))
        .map(([key, value]) => [key, stripDocs(value)]),
    );
  }
  return node;
}

describe('contracts', () => {
  it('lint clean: OpenAPI and AsyncAPI (Spectral + swagger-parser / @asyncapi/parser), JSON Schemas (ajv), policies, migration names', async () => {
    expect(await lintContracts()).toEqual([]);
  });

  it('lint reports a broken OpenAPI document, at the broken line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-lint-'));
    try {
      const broken = join(dir, 'broken.openapi.yaml');
      const text = readFileSync(contractPaths.openapi, 'utf8').replace('operationId: getRun\n', 'operationId: getRun\n      deprecated: maybe\n');
      writeFileSync(broken, text);
      const findings = await lintContracts({ openapi: broken });
      const line = text.split('\n').indexOf('      deprecated: maybe') + 1;
      expect(findings.map((f) => `${f.contract}:${f.line} ${f.path} (${f.rule})`)).toEqual([`${broken}:${line} paths./internal/v1/runs/{run_id}.get.deprecated (oas3-schema)`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('KhalaUpdate, StaleCursorDetails and KhalaSnapshot mean the same in the HTTP and WebSocket contracts', async () => {
    const openapi = parseYaml(readFileSync(contractPaths.openapi, 'utf8')).components.schemas;
    const asyncapi = parseYaml(readFileSync(contractPaths.asyncapi, 'utf8')).components.schemas;
    type Schemas = { components: { schemas: Record<string, any> } };
    const deref = async (schemas: unknown) =>
      (await SwaggerParser.dereference(structuredClone({ openapi: '3.1.0', info: { title: 'x', version: '1' }, paths: {}, components: { schemas } }) as never)) as unknown as Schemas;
    const http = await deref(openapi);
    const ws = await deref(asyncapi);
    const ajvHttp = new Ajv2020({ strict: false });
    addFormats.default(ajvHttp);
    const update = { topic: 'run:r1:events', seq: 3, epoch: 'e1', doc_key: 'runtime/run_summary:r1', doc_version: 3, event_type: 'run.step', payload: { a: 1 }, payload_hash: 'a'.repeat(64), published_at: '2026-01-01T00:00:00Z' };
    for (const name of ['KhalaUpdate', 'KhalaSnapshot']) {
      const a = http.components.schemas[name]!;
      const b = ws.components.schemas[name]!;
      expect(Object.keys((stripDocs(a) as { properties: object }).properties).sort(), name).toEqual(Object.keys((stripDocs(b) as { properties: object }).properties).sort());
    }
    const validateHttpUpdate = ajvHttp.compile(http.components.schemas.KhalaUpdate!);
    expect(validateHttpUpdate(update)).toBe(true);
    expect(validateHttpUpdate({ ...update, seq: 0 })).toBe(false);
    const httpStale = stripDocs(http.components.schemas.StaleCursorDetails) as { properties: Record<string, unknown>; required: string[] };
    const wsStale = stripDocs(ws.components.schemas.StaleCursorDetails) as { properties: Record<string, unknown>; required: string[] };
    expect([...httpStale.required].sort()).toEqual([...wsStale.required].sort());
    for (const field of httpStale.required) expect(wsStale.properties[field], field).toBeDefined();
  });

  it('the error registry and the contract ErrorCode enum list the same codes', async () => {
    const contract = await loadOpenApiContract();
    const enumCodes = (contract.bundled.components!.schemas!.ErrorCode as { enum: string[] }).enum;
    expect(Object.keys(ERROR_STATUS).sort()).toEqual([...enumCodes].sort());
  });

  it('every operation has an operationId, documents its statuses, and has a strict request body', async () => {
    const contract = await loadOpenApiContract();
    expect(contract.operations.size).toBe(20);
    for (const op of contract.operations.values()) {
      expect(op.responses.size, op.operationId).toBeGreaterThan(0);
      if (op.security.length > 0) expect(op.responses.has(401), `${op.operationId} documents 401`).toBe(true);
      if (op.requestBody) {
        expect(op.requestBody.schema.additionalProperties, op.operationId).toBe(false);
        expect(op.responses.has(400), `${op.operationId} documents 400`).toBe(true);
      }
    }
  });

  it('every operation is served by the reference server or listed as not yet served (both directions)', async () => {
    const contract = await loadOpenApiContract();
    const env = loadRuntimeEnv({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'silent' });
    // The pool never connects: building the routes needs no database.
    const server = await createReferenceServer({ pool: new pg.Pool({ connectionString: env.values.DATABASE_URL }), config: toRuntimeConfig(env), logger: createLogger('silent') });
    try {
      const served = new Set(server.operations);
      for (const id of contract.operations.keys()) {
        expect(served.has(id) !== (id in NOT_YET_SERVED), `${id}: served=${served.has(id)}, listed as not yet served=${id in NOT_YET_SERVED}`).toBe(true);
      }
      for (const id of Object.keys(NOT_YET_SERVED)) expect(contract.operations.has(id), id).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('the report schema compiles and accepts a minimal report', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(readJsonContract(contractPaths.reportSchema));
    const report = {
      schema: 'runtime-gate.report.v1', decision: 'GO', mode: 'gate', shard: { index: 1, count: 1 }, harness_version: '0.1.0',
      contract_digests: { 'contracts/runtime.openapi.yaml': 'a'.repeat(64) },
      targets: [{ role: 'candidate', name: 'reference', base_url: 'http://127.0.0.1:4100', build_sha: 'dev' }],
      checks: [{ check_id: 'health.healthz.status', lane: 'health', required: 'required', status: 'passed', duration_ms: 3, description: 'GET /healthz', log_path: 'logs/health.healthz.status.log', detail: '' }],
      totals: { passed: 1, failed: 0, skipped: 0, error: 0 },
      started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z',
    };
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...report, decision: 'MAYBE' })).toBe(false);
  });

  it('README.md carries the configuration table rendered from the env schema', () => {
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
    expect(withEnvTable(readme)).toBe(readme);
    for (const name of Object.keys(readJsonContract<{ properties: object }>(contractPaths.runtimeEnvSchema).properties)) {
      expect(readme).toContain(`\`${name}\``);
    }
  });
});
