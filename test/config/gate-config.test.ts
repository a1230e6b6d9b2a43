/**
 * The `validate --config` file is checked against contracts/gate-config.schema.json on load:
 * an unknown or misspelt key is an error naming its JSON path (it used to be ignored, so
 * `bse_url` silently meant "no target"), and the README's example config is valid.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';
import { ConfigError, readGateConfigFile, resolveTargets, validateGateConfig } from '../../harness/target.ts';

const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

function readmeExample(): unknown {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const match = /<!-- config-example:start[^>]*-->\s*```json\n([\s\S]*?)```\s*<!-- config-example:end -->/.exec(readme);
  expect(match, 'README.md has a config example between the config-example markers').not.toBeNull();
  return JSON.parse(match![1]!);
}

describe('validate --config (contracts/gate-config.schema.json)', () => {
  it('the README example is valid and resolves to a candidate and a baseline', () => {
    const example = readmeExample();
    expect(validateGateConfig(example)).toEqual([]);
    const file = readGateConfigFile(configFile('readme.json', example));
    const env = { RUNTIME_GATE_INTERNAL_TOKEN: 'token-from-env', RUNTIME_GATE_DB_URL: 'postgres://u:p@db/x', LEGACY_INTERNAL_TOKEN: 'legacy-token' };
    const secretFile = join(dir, 'sync-signing-key');
    writeFileSync(secretFile, 'key-from-file\n');
    const candidate = (file.targets!.candidate as { sync_signing_key?: string });
    candidate.sync_signing_key = `file:${secretFile}`;
    const targets = resolveTargets({}, env, file);
    expect(targets.candidate).toMatchObject({ base_url: 'https://runtime.staging.example.com', internal_token: 'token-from-env', sync_signing_key: 'key-from-file', db_url: 'postgres://u:p@db/x' });
    expect(targets.baseline).toMatchObject({ base_url: 'https://legacy.staging.example.com', internal_token: 'legacy-token' });
  });

  it('an unknown key anywhere is an error naming its JSON path', () => {
    const cases: [unknown, string][] = [
      [{ targets: { candidate: { bse_url: 'http://x' } } }, '$.targets.candidate unknown field bse_url'],
      [{ requried_lanes: ['drift'] }, '$ unknown field requried_lanes'],
      [{ targets: { candidate: { base_url: 'http://x', khala_threat: { revoked: 'x' } } } }, '$.targets.candidate.khala_threat unknown field revoked'],
      [{ targets: { staging: {} } }, '$.targets unknown field staging'],
    ];
    for (const [value, problem] of cases) {
      const path = configFile('unknown.json', value);
      expect(() => readGateConfigFile(path)).toThrow(ConfigError);
      expect(() => readGateConfigFile(path)).toThrow(problem);
    }
  });

  it('wrong types and values are named too: a lane that does not exist, a negative max_warnings, a mode', () => {
    expect(validateGateConfig({ lanes: ['health', 'warp'] })).toContainEqual(expect.stringMatching(/^\$\.lanes\[1\] must be one of health, contract/));
    expect(validateGateConfig({ max_warnings: -1 })).toEqual(['$.max_warnings must be >= 0']);
    expect(validateGateConfig({ mode: 'lenient' })).toEqual(['$.mode must be one of gate, baseline']);
    expect(validateGateConfig({ targets: { candidate: { deployment: { kind: 'kubernetes', namespace: 'n' } } } }).join('; ')).toContain('missing required field deployment');
  });
});
