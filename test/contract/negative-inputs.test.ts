import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { contractPaths } from '../../contracts/contract-files.ts';
import { loadOpenApiContract, type OperationSpec } from '../../contracts/openapi-operations.ts';
import { buildValidExample, type NegativeCase, negativeRequests } from '../../harness/contract/negative-inputs.ts';

const contract = await loadOpenApiContract();
const withBody = [...contract.operations.values()].filter((op): op is OperationSpec & { requestBody: NonNullable<OperationSpec['requestBody']> } => !!op.requestBody);
const ONE_MIB = 1024 * 1024;

/** The contract's own `example` of each operation's JSON body, where it gives one. */
const rawDoc = parseYaml(readFileSync(contractPaths.openapi, 'utf8'));
const contractExamples = new Map<string, unknown>();
for (const item of Object.values<any>(rawDoc.paths)) {
  for (const op of Object.values<any>(item)) {
    const example = op?.requestBody?.content?.['application/json']?.example;
    if (op?.operationId && example !== undefined) contractExamples.set(op.operationId, example);
  }
}

function expectAllRejected(op: OperationSpec, cases: NegativeCase[]): void {
  expect(cases.length).toBeGreaterThan(0);
  expect(new Set(cases.map((c) => c.name)).size, 'case names are unique').toBe(cases.length);
  for (const c of cases) {
    const label = `${op.operationId} ${c.name}`;
    expect(c.contentType, label).toBe('application/json');
    if (c.kind === 'malformed-json') {
      expect(() => JSON.parse(c.body), label).toThrow();
      continue;
    }
    const body = JSON.parse(c.body);
    if (c.kind === 'oversize') {
      expect(Buffer.byteLength(c.body), label).toBeGreaterThan(2 * ONE_MIB);
      expect(c.expectedErrorCode, label).toBe('payload_too_large');
      continue;
    }
    expect(c.expectedErrorCode, label).toBe('invalid_request');
    expect(op.requestBody!.validate(body), `${label} must be rejected: ${c.description}`).toBe(false);
  }
}

describe('buildValidExample', () => {
  it('synthesizes a valid body for every operation with a JSON body', () => {
    expect(withBody.map((op) => op.operationId).sort()).toEqual(
      ['appendRunEvent', 'cancelRun', 'createCreditEnvelope', 'createCreditIntent', 'createCreditOffer', 'createRun', 'mintSyncToken', 'revokeSyncSessions', 'settleCreditEnvelope'].sort(),
    );
    for (const op of withBody) {
      const example = buildValidExample(op.requestBody.schema);
      expect(op.requestBody.validate(example), `${op.operationId}: ${JSON.stringify(op.requestBody.validate.errors)}`).toBe(true);
    }
  });

  it('synthesizes a valid body for every documented JSON response too (allOf, oneOf, open maps)', async () => {
    const doc = (await SwaggerParser.dereference(structuredClone(contract.bundled))) as any;
    let checked = 0;
    for (const item of Object.values<any>(doc.paths)) {
      for (const op of Object.values<any>(item)) {
        for (const [status, response] of Object.entries<any>(op?.responses ?? {})) {
          const schema = response.content?.['application/json']?.schema;
          if (!schema) continue;
          const validate = contract.operations.get(op.operationId)!.responses.get(Number(status))!.validate!;
          const example = buildValidExample(schema);
          expect(validate(example), `${op.operationId} ${status}: ${JSON.stringify(validate.errors)}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('generates strings for the contract patterns and future date-times', () => {
    const value = (schema: Record<string, unknown>, now?: Date) => buildValidExample(schema, now ? { now } : {});
    expect(value({ type: 'string', pattern: '^[0-9a-f]{64}$' })).toBe('0'.repeat(64));
    expect(value({ type: 'string', pattern: '^cepi_[0-9a-f]{24}$' })).toBe(`cepi_${'0'.repeat(24)}`);
    expect(value({ type: 'string', pattern: '^[a-z][a-z0-9_.:-]{0,127}$' })).toBe('a');
    expect(value({ type: 'string', pattern: '^(?:ab|cd)+x?$', minLength: 5 })).toMatch(/^(?:ab|cd)+x?$/);
    expect((value({ type: 'string', pattern: '^(?:ab|cd)+x?$', minLength: 5 }) as string).length).toBeGreaterThanOrEqual(5);
    expect(value({ type: 'string', minLength: 30, maxLength: 40 })).toHaveLength(30);
    expect(value({ type: 'string', maxLength: 4 })).toBe('runt');
    expect(value({ type: 'string', format: 'date-time' })).toBe('2099-01-01T00:00:00Z');
    expect(value({ type: 'string', format: 'date-time' }, new Date('2026-05-01T12:00:00.123Z'))).toBe('2026-05-01T12:10:00Z');
    expect(value({ type: 'integer', minimum: 1, maximum: 86400 })).toBe(1);
    expect(value({ type: 'integer', exclusiveMinimum: 3, multipleOf: 5 })).toBe(5);
    expect(value({ type: ['string', 'null'], const: 'x' })).toBe('x');
    expect(() => value({ type: 'string', pattern: '^(a)\\1$' })).toThrow(/cannot synthesize a string matching/);
  });
});

describe('negativeRequests', () => {
  it.each(withBody.map((op) => [op.operationId, op] as const))('%s: every case is rejected by the contract (or malformed/oversize by construction)', (_id, op) => {
    expectAllRejected(op, negativeRequests(op));
  });

  it.each(withBody.filter((op) => contractExamples.has(op.operationId)).map((op) => [op.operationId, op] as const))(
    '%s: cases derived from the contract example are rejected too',
    (id, op) => {
      const example = contractExamples.get(id);
      expect(op.requestBody.validate(example)).toBe(true);
      expectAllRejected(op, negativeRequests(op, { example }));
    },
  );

  it('covers each rule of appendRunEvent', () => {
    const op = contract.operations.get('appendRunEvent')!;
    expect(negativeRequests(op).map((c) => c.name)).toEqual([
      'missing-required:event_type',
      'missing-required:idempotency_key',
      'missing-required:payload',
      'wrong-type:$',
      'wrong-type:event_type',
      'pattern:event_type',
      'wrong-type:idempotency_key',
      'too-short:idempotency_key',
      'too-long:idempotency_key',
      'wrong-type:payload',
      'unknown-field:$',
      'malformed-json:$',
      'oversize:$',
    ]);
  });

  it('covers enums, ranges, formats, items and minProperties where the contract has them', () => {
    const names = (id: string) => negativeRequests(contract.operations.get(id)!).map((c) => c.name);
    expect(names('createCreditOffer')).toEqual(
      expect.arrayContaining(['not-in-enum:schema', 'pattern:agent_id', 'below-minimum:max_sats', 'below-minimum:fee_bps', 'above-maximum:fee_bps', 'bad-format:exp', 'wrong-type:requires_verifier']),
    );
    expect(names('mintSyncToken')).toEqual(expect.arrayContaining(['not-in-enum:scopes', 'duplicate-items:scopes', 'above-maximum:ttl_seconds']));
    expect(names('revokeSyncSessions')).toEqual(expect.arrayContaining(['too-few-items:session_ids', 'too-few-properties:$']));
    // Optional properties the minimal example lacks are still exercised.
    expect(names('createRun')).toEqual(['wrong-type:$', 'wrong-type:thread_id', 'too-short:thread_id', 'too-long:thread_id', 'wrong-type:metadata', 'unknown-field:$', 'malformed-json:$', 'oversize:$']);
  });

  it('describes where and what', () => {
    const cases = negativeRequests(contract.operations.get('createCreditOffer')!);
    const byName = new Map(cases.map((c) => [c.name, c]));
    expect(byName.get('below-minimum:max_sats')!.description).toBe('max_sats = 0, below minimum 1');
    expect(byName.get('wrong-type:max_sats')!.description).toBe('max_sats sent as string (schema: integer)');
    expect(byName.get('oversize:$')!.description).toBe("agent_id is a 2097152 byte string, body above the server's body limit");
    expect(byName.get('missing-required:agent_id')!.description).toBe('body without required field agent_id');
  });

  it('is deterministic', () => {
    for (const op of withBody) expect(negativeRequests(op)).toEqual(negativeRequests(op));
  });

  it('returns nothing for an operation without a JSON body', () => {
    expect(negativeRequests(contract.operations.get('getRun')!)).toEqual([]);
  });
});

