/**
 * harness/contract/lint-contracts.ts on third-party-style documents: each defect Spectral's
 * maintained rulesets catch is reported with its rule, line and path; a clean document passes;
 * the built-in contracts lint clean (warnings included); files that cannot be linted are one
 * line; this project's conventions apply to the built-in contracts (and on request).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { contractPaths } from '../../contracts/contract-files.ts';
import { formatLintFinding, isFailing, type LintFinding, LintInputError, lintContracts, lintFile } from '../../harness/contract/lint-contracts.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-gate-contract-lint-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** A small, clean, third-party-style OpenAPI document (YAML text), for `version` 3.0.x or 3.1.x. */
function petstore(version: string): string {
  return `openapi: ${version}
info:
  title: Pet store
  version: 2.1.0
  description: A third-party API, not this project's.
  contact:
    name: Pet store team
servers:
  - url: https://pets.example.org/api/v1
tags:
  - name: pets
    description: Pets.
security:
  - apiKey: []
paths:
  /pets/{petId}:
    get:
      operationId: getPet
      summary: Read a pet.
      description: Read one pet by id.
      tags: [pets]
      parameters:
        - name: petId
          in: path
          required: true
          description: The pet id.
          schema:
            type: string
      responses:
        '200':
          description: The pet.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Pet'
              example:
                name: Rex
                age: 3
  /pets:
    get:
      operationId: listPets
      summary: List pets.
      description: Every pet.
      tags: [pets]
      security: []
      responses:
        '200':
          description: The pets.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/Pet'
components:
  securitySchemes:
    apiKey:
      type: apiKey
      in: header
      name: X-Api-Key
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name:
          type: string
          example: Rex
        age:
          type: integer
          minimum: 0
`;
}

/** The first `$ref` to Pet (the 200 of getPet), which the $ref cases replace. */
const PET_REF = "$ref: '#/components/schemas/Pet'";

/** Findings as `rule line path` for compact assertions. */
const brief = (findings: LintFinding[]) => findings.map((f) => `${f.rule} ${f.line} ${f.path}`);

describe.each(['3.0.3', '3.1.0'])('OpenAPI %s', (version) => {
  it('a clean third-party-style document passes with no finding at all', async () => {
    expect(await lintFile(write(`clean-${version}.yaml`, petstore(version)))).toEqual([]);
  });

  it('the same document as JSON passes too', async () => {
    expect(await lintFile(write(`clean-${version}.json`, JSON.stringify(parseYaml(petstore(version)), null, 2)))).toEqual([]);
  });

  // Each defect on its own, so one cannot hide another: [name, edit of the clean text, rule,
  // a text on the line the finding must point at (its first occurrence), path].
  const defects: Array<[string, (text: string) => string, string, string, string]> = [
    ['duplicate operationId', (t) => t.replace('operationId: listPets', 'operationId: getPet'), 'operation-operationId-unique', 'operationId: getPet\n      summary: List', 'paths./pets.get.operationId'],
    ['media example that breaks its schema', (t) => t.replace('age: 3', 'age: three'), 'oas3-valid-media-example', 'age: three', 'paths./pets/{petId}.get.responses.200.content.application/json.example.age'],
    ['schema example that breaks its schema', (t) => t.replace('example: Rex', 'example: 42'), 'oas3-valid-schema-example', 'example: 42', 'components.schemas.Pet.properties.name.example'],
    ['path template parameter with no parameter', (t) => t.replace('/pets/{petId}:', '/pets/{petId}/{photoId}:'), 'path-params', '    get:\n      operationId: getPet', 'paths./pets/{petId}/{photoId}.get'],
    ['path parameter not in the template', (t) => t.replace('/pets/{petId}:', '/pets/by-id:'), 'path-params', '- name: petId', 'paths./pets/by-id.get.parameters.0'],
    ['security scheme that is not defined', (t) => t.replace('security:\n  - apiKey: []', 'security:\n  - oauth: []'), 'oas3-operation-security-defined', '- oauth: []', 'security.0.oauth'],
    ['operation security scheme that is not defined', (t) => t.replace('      security: []\n', '      security:\n        - basicAuth: []\n'), 'oas3-operation-security-defined', '- basicAuth: []', 'paths./pets.get.security.0.basicAuth'],
    ['unresolvable internal $ref', (t) => t.replace(PET_REF, "$ref: '#/components/schemas/Dog'"), 'invalid-ref', '#/components/schemas/Dog', 'paths./pets/{petId}.get.responses.200.content.application/json.schema.$ref'],
    ['unresolvable external $ref', (t) => t.replace(PET_REF, "$ref: './no-such-file.yaml#/Pet'"), 'invalid-ref', 'no-such-file.yaml', 'paths./pets/{petId}.get.responses.200.content.application/json.schema.$ref'],
  ];

  it.each(defects)('%s: an error with its rule, line and path', async (name, edit, rule, marker, path) => {
    const text = edit(petstore(version));
    expect(text, 'the edit applied').not.toBe(petstore(version));
    expect(text, 'the marker is in the text').toContain(marker);
    const line = text.slice(0, text.indexOf(marker) + marker.indexOf(marker.trim())).split('\n').length;
    const file = write(`${name.replaceAll(' ', '-').replaceAll('$', '')}-${version}.yaml`, text);
    const errors = (await lintFile(file)).filter(isFailing);
    expect(brief(errors)).toEqual([`${rule} ${line} ${path}`]);
    expect(errors[0]).toMatchObject({ contract: file, severity: 'error' });
    expect(formatLintFinding(errors[0]!, dir)).toBe(`${file.slice(dir.length + 1)}:${line} ${path} ${errors[0]!.message} (${rule})`);
  });

  it('a remote $ref is not fetched: an invalid-ref error saying so', async () => {
    const text = petstore(version).replace(PET_REF, "$ref: 'https://schemas.example.invalid/pet.yaml'");
    const [finding, ...others] = (await lintFile(write(`remote-${version}.yaml`, text))).filter(isFailing);
    expect(others).toEqual([]);
    expect(finding).toMatchObject({ rule: 'invalid-ref', line: text.split('\n').findIndex((l) => l.includes('schemas.example.invalid')) + 1 });
    expect(finding!.message).toMatch(/remote \$ref https:\/\/schemas\.example\.invalid\/pet\.yaml not fetched/);
  });
});

describe('lintFile', () => {
  it('a style finding is a warning: printed with `warning:`, not failing', async () => {
    const text = petstore('3.1.0').replace('      description: Every pet.\n', '');
    const findings = await lintFile(write('warning.yaml', text));
    expect(findings.filter(isFailing)).toEqual([]);
    expect(findings).toHaveLength(1);
    // The `get:` line of listPets: the line before its operationId.
    const line = text.split('\n').findIndex((l) => l.includes('operationId: listPets'));
    expect(formatLintFinding(findings[0]!, dir)).toBe(`warning.yaml:${line} paths./pets.get warning: Operation "description" must be present and non-empty string. (operation-description)`);
  });

  it('AsyncAPI: a clean document passes; an unresolvable $ref is an error', async () => {
    const clean = `asyncapi: 3.0.0
info:
  title: Chat
  version: 1.0.0
  description: A chat socket.
  contact: {name: Chat team, url: 'https://chat.example.org', email: chat@example.org}
  license: {name: MIT}
  tags: [{name: chat}]
servers:
  prod:
    host: chat.example.org
    protocol: wss
channels:
  room:
    address: /rooms
    messages:
      said:
        payload:
          $ref: '#/components/schemas/Said'
operations:
  receiveSaid:
    action: receive
    description: A user said something.
    channel:
      $ref: '#/channels/room'
    messages:
      - $ref: '#/channels/room/messages/said'
components:
  schemas:
    Said:
      type: object
      properties:
        text: {type: string}
`;
    expect(await lintFile(write('chat.asyncapi.yaml', clean))).toEqual([]);
    const broken = clean.replace("$ref: '#/components/schemas/Said'", "$ref: '#/components/schemas/Shouted'");
    expect(brief((await lintFile(write('chat-broken.asyncapi.yaml', broken))).filter(isFailing))).toContain('invalid-ref 19 channels.room.messages.said.payload.$ref');
  });

  it('JSON Schemas compile with ajv: a broken one is an error', async () => {
    expect(await lintFile(contractPaths.reportSchema)).toEqual([]);
    const broken = write('broken.schema.json', JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { a: { type: 'nope' } } }));
    expect(brief(await lintFile(broken))).toEqual(['json-schema 1 $']);
  });

  it('a file it cannot read or parse is a one-line LintInputError naming the file', async () => {
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'missing.yaml'), /missing\.yaml: no such file$/],
      [dir, /: is a directory, not a file$/],
      [write('not-yaml.yaml', 'openapi: 3.1.0\ninfo: [unclosed\n'), /not-yaml\.yaml: not valid YAML or JSON: /],
      [write('list.yaml', '- a\n- b\n'), /list\.yaml: not an OpenAPI, AsyncAPI or JSON Schema document/],
      [write('empty.yaml', ''), /empty\.yaml: not an OpenAPI, AsyncAPI or JSON Schema document/],
    ];
    for (const [file, pattern] of cases) {
      const error = await lintFile(file).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, file).toBeInstanceOf(LintInputError);
      expect((error as Error).message, file).toMatch(pattern);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('a duplicate key is a finding with its line (the file parses)', async () => {
    const text = petstore('3.1.0').replace('  version: 2.1.0\n', '  version: 2.1.0\n  title: Again\n');
    expect(brief((await lintFile(write('dup.yaml', text))).filter(isFailing))).toEqual(['parser 5 info.title']);
  });
});

describe('the built-in contracts', () => {
  it('lint clean: no error and no warning (OpenAPI and AsyncAPI with conventions, JSON Schemas, policies, migrations)', async () => {
    expect((await lintContracts({}, { includeWarnings: true })).map((f) => formatLintFinding(f))).toEqual([]);
  });

  it("this project's conventions are Spectral rules on the built-in OpenAPI contract (and on any file with `conventions`)", async () => {
    const doc = parseYaml(readFileSync(contractPaths.openapi, 'utf8'));
    doc.components.schemas.CreateRunRequest.additionalProperties = true;
    delete doc.paths['/internal/v1/runs'].post.responses['400'];
    delete doc.paths['/internal/v1/runs'].post.responses['401'];
    doc.components.schemas.Run.properties.threadId = { type: 'string' };
    doc.components.responses.NotFound.content['application/json'].schema = { type: 'object', properties: { message: { type: 'string' } } };
    const copy = write('runtime.openapi.yaml', stringifyYaml(doc));
    const rules = (findings: LintFinding[]) => [...new Set(findings.filter(isFailing).map((f) => f.rule))].sort();
    expect(rules(await lintFile(copy, { conventions: true }))).toEqual([
      'runtime-gate-documents-400',
      'runtime-gate-documents-401',
      'runtime-gate-error-envelope',
      'runtime-gate-snake-case-fields',
      'runtime-gate-strict-request-body',
    ]);
    // Without them, the copy is an ordinary (valid) OpenAPI document.
    expect(rules(await lintFile(copy))).toEqual([]);
    // lintContracts applies them to a replaced OpenAPI contract.
    expect(rules(await lintContracts({ openapi: copy }))).toContain('runtime-gate-strict-request-body');
  });

  it('a built-in contract that cannot be read is a finding of lintContracts, not an exception', async () => {
    const findings = await lintContracts({ asyncapi: join(dir, 'no-such.asyncapi.yaml') });
    expect(findings.map((f) => `${f.rule} ${f.message}`)).toEqual(['read no such file']);
  });
});
