/**
 * `runtime-gate contracts lint` / `contracts diff` as a release engineer runs them (spawned:
 * `node bin/runtime-gate.mjs`, see test/cli/run-cli.ts). Few cases, run concurrently: the
 * library behaviour is covered by contract-lint.test.ts and openapi-diff.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { contractPaths } from '../../contracts/contract-files.ts';
import { type CliResult, killAll, mapLimit, runCli } from '../cli/run-cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-gate-contracts-cli-'));
});
afterAll(() => {
  killAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const describeRun = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('runtime-gate contracts', () => {
  it('lint and diff: findings one per line, unreadable files one line with the right exit code, base paths resolved', async () => {
    const contract = parseYaml(readFileSync(contractPaths.openapi, 'utf8'));
    // The contract rewritten with `servers: [{url: /internal/v1}]` and paths relative to it.
    const relative = { ...structuredClone(contract), servers: [{ url: '/internal/v1' }], paths: {} as Record<string, unknown> };
    for (const [template, item] of Object.entries<any>(contract.paths)) {
      if (template.startsWith('/internal/v1/')) relative.paths[template.slice('/internal/v1'.length)] = item;
      else relative.paths[template] = { ...item, servers: [{ url: '/' }] };
    }
    const relativeFile = write('relative.openapi.yaml', stringifyYaml(relative));
    const broken = write(
      'broken.openapi.yaml',
      stringifyYaml({
        openapi: '3.0.3',
        info: { title: 'Broken', version: '1.0.0' },
        paths: { '/pets/{id}': { get: { operationId: 'getPet', responses: { '200': { description: 'ok' } } } }, '/pets': { get: { operationId: 'getPet', responses: { '200': { description: 'ok' } } } } },
      }),
    );
    const missing = join(dir, 'missing.yaml');
    const notYaml = write('not-yaml.yaml', 'openapi: 3.1.0\ninfo: [unclosed\n');

    const [builtIn, lint, diffSame, diffMissing, diffUnparsable] = await mapLimit(
      [
        ['contracts', 'lint'],
        ['contracts', 'lint', broken, missing],
        ['contracts', 'diff', relativeFile, contractPaths.openapi],
        ['contracts', 'diff', contractPaths.openapi, missing],
        ['contracts', 'diff', notYaml, contractPaths.openapi],
      ],
      3,
      (args) => runCli(args, { timeoutMs: 90_000 }),
    );

    expect(builtIn!.code, describeRun(builtIn!)).toBe(0);
    expect(builtIn!.stdout).toBe('contracts lint clean\n');
    expect(builtIn!.stderr).toBe('');

    expect(lint!.code, describeRun(lint!)).toBe(1);
    const lines = lint!.stdout.trimEnd().split('\n');
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^\S+:\d+ \S+ .+ \([\w$-]+\)$/);
    expect(lines).toContain(`${broken}:7 paths./pets/{id}.get Operation must define parameter "{id}" as expected by path "/pets/{id}". (path-params)`);
    expect(lint!.stdout).toMatch(/^\S+broken\.openapi\.yaml:\d+ paths\.\/pets\.get\.operationId .* \(operation-operationId-unique\)$/m);
    expect(lines.at(-1)).toMatch(/^contracts lint: \d+ error\(s\), .*1 file\(s\) not linted$/);
    expect(lint!.stderr).toBe(`runtime-gate: contracts lint: ${missing}: no such file\n`);

    expect(diffSame!.code, describeRun(diffSame!)).toBe(0);
    expect(diffSame!.stdout).toBe('no breaking changes\n');

    for (const run of [diffMissing!, diffUnparsable!]) {
      expect(run.code, describeRun(run)).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n'), 'one line, no stack trace').toHaveLength(1);
    }
    expect(diffMissing!.stderr).toBe(`runtime-gate: contracts diff: ${missing}: no such file\n`);
    expect(diffUnparsable!.stderr).toMatch(/^runtime-gate: contracts diff: \S+not-yaml\.yaml: not valid YAML or JSON: /);
  });
});
