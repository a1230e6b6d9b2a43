/**
 * contract.lint.local-contracts reads the local contracts, not the target, and runGate
 * takes no contract paths, so the only way to show it can fail is to point the linter at
 * a broken copy of the OpenAPI contract (the real linter runs on it).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { contractPaths } from '../../contracts/contract-files.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from './gate-fixture.ts';

const broken = vi.hoisted(() => ({ openapi: '' }));
vi.mock('../../harness/contract/lint-contracts.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../harness/contract/lint-contracts.ts')>();
  return { ...original, lintContracts: (paths = {}) => original.lintContracts({ ...paths, ...(broken.openapi ? { openapi: broken.openapi } : {}) }) };
});

let fixture: GateFixture;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-gate-broken-contract-'));
  const text = readFileSync(contractPaths.openapi, 'utf8');
  const dangling = text.replace("$ref: '#/components/schemas/CreditIntentResponseV1'", "$ref: '#/components/schemas/NoSuchSchema'");
  expect(dangling).not.toBe(text);
  broken.openapi = join(dir, 'runtime.openapi.yaml');
  writeFileSync(broken.openapi, dangling);
  fixture = await startGateFixture('harness_lint');
});
afterAll(async () => {
  await fixture?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('contract.lint.local-contracts fails on a local contract with a dangling $ref', async () => {
  // The linter is local CPU work (about 1 s cold): a generous deadline keeps this about the lint finding.
  const run = await fixture.runFaulty([], { lanes: ['contract'], checkTimeoutMs: 15_000 });
  expectCheckFails(run, 'contract.lint.local-contracts', /NoSuchSchema/);
});
