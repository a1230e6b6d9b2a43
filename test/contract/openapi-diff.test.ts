import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { contractPaths } from '../../contracts/contract-files.ts';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { type BreakingChange, diffOpenApi, diffOpenApiDocuments, diffOpenApiFiles, formatBreakingChanges, OpenApiInputError } from '../../harness/contract/openapi-diff.ts';

const base = parseYaml(readFileSync(contractPaths.openapi, 'utf8'));
const schemas = (doc: any) => doc.components.schemas;

// Every operation whose responses embed `Run` (RunResponse, CancelRunResponse, the 202 oneOf).
const RUN_RESPONSES = [
  'POST /internal/v1/runs 201',
  'GET /internal/v1/runs/{run_id} 200',
  'POST /internal/v1/runs/{run_id}/cancel 200',
  'POST /internal/v1/runs/{run_id}/cancel 202',
];

interface DiffCase {
  mutate: (doc: any) => void;
  /** Every change expected, as `kind location`, in report order. */
  want: string[];
}

const cases: Array<[string, DiffCase]> = [
  [
    'removed path',
    {
      mutate: (doc) => delete doc.paths['/internal/v1/khala/fanout/metrics'],
      want: ['removed_path /internal/v1/khala/fanout/metrics'],
    },
  ],
  [
    'removed operation (POST moved to PUT)',
    {
      mutate: (doc) => {
        const item = doc.paths['/internal/v1/runs'];
        item.put = item.post;
        delete item.post;
      },
      want: ['removed_operation POST /internal/v1/runs'],
    },
  ],
  [
    'removed response status',
    {
      mutate: (doc) => delete doc.paths['/internal/v1/runs/{run_id}/events'].post.responses['429'],
      want: ['removed_response_status POST /internal/v1/runs/{run_id}/events 429'],
    },
  ],
  [
    'optional request field made required',
    {
      mutate: (doc) => {
        schemas(doc).CancelRunRequest.required = ['reason'];
      },
      want: ['new_required_request_field POST /internal/v1/runs/{run_id}/cancel request $.reason'],
    },
  ],
  [
    'new required request field',
    {
      mutate: (doc) => {
        schemas(doc).SyncTokenRequest.properties.audience = { type: 'string' };
        schemas(doc).SyncTokenRequest.required.push('audience');
      },
      want: ['new_required_request_field POST /internal/v1/sync/token request $.audience'],
    },
  ],
  [
    'new required query parameter',
    {
      mutate: (doc) => {
        doc.paths['/internal/v1/runs/{run_id}'].get.parameters.push({ name: 'view', in: 'query', required: true, schema: { type: 'string' } });
      },
      want: ['new_required_request_field GET /internal/v1/runs/{run_id} query.view'],
    },
  ],
  [
    'optional request body made required',
    {
      mutate: (doc) => {
        doc.paths['/internal/v1/runs'].post.requestBody.required = true;
      },
      want: ['new_required_request_field POST /internal/v1/runs request $'],
    },
  ],
  [
    'removed response field',
    {
      mutate: (doc) => {
        const event = schemas(doc).RunEvent;
        delete event.properties.payload_hash;
        event.required = event.required.filter((f: string) => f !== 'payload_hash');
      },
      want: ['removed_response_field POST /internal/v1/runs/{run_id}/events 200 $.event.payload_hash'],
    },
  ],
  [
    'response field no longer required',
    {
      mutate: (doc) => {
        schemas(doc).Run.required = schemas(doc).Run.required.filter((f: string) => f !== 'thread_id');
      },
      want: RUN_RESPONSES.map((where) => `removed_response_field ${where} $.run.thread_id`),
    },
  ],
  [
    'retyped response field (integer → string)',
    {
      mutate: (doc) => {
        schemas(doc).Run.properties.latest_seq.type = 'string';
      },
      want: RUN_RESPONSES.map((where) => `retyped_response_field ${where} $.run.latest_seq`),
    },
  ],
  [
    'retyped response field (integer → number is a widening, still breaking)',
    {
      mutate: (doc) => {
        schemas(doc).KhalaPollResponse.properties.head_seq.type = 'number';
      },
      want: ['retyped_response_field GET /internal/v1/khala/topics/{topic}/messages 200 $.head_seq'],
    },
  ],
  [
    'retyped response field inside array items',
    {
      mutate: (doc) => {
        schemas(doc).KhalaUpdate.properties.seq.type = 'string';
      },
      want: ['retyped_response_field GET /internal/v1/khala/topics/{topic}/messages 200 $.messages[*].seq'],
    },
  ],
  [
    'removed request enum value',
    {
      mutate: (doc) => {
        schemas(doc).SyncScope.enum = schemas(doc).SyncScope.enum.filter((s: string) => s !== 'runtime.read');
      },
      want: ['narrowed_request_enum POST /internal/v1/sync/token request $.scopes[*]'],
    },
  ],
  [
    'added response enum value',
    {
      mutate: (doc) => {
        schemas(doc).RunStatus.enum.push('paused');
      },
      want: RUN_RESPONSES.map((where) => `widened_response_enum ${where} $.run.status`),
    },
  ],
  [
    'added response enum value in an allOf-composed error body',
    {
      mutate: (doc) => {
        schemas(doc).ForbiddenError.allOf[1].properties.error.properties.details.properties.reason_code.enum.push('ip_blocked');
      },
      want: ['widened_response_enum GET /internal/v1/khala/topics/{topic}/messages 403 $.error.details.reason_code'],
    },
  ],
  [
    'retyped request field',
    {
      mutate: (doc) => {
        schemas(doc).AppendRunEventRequest.properties.idempotency_key = { type: 'integer' };
      },
      want: ['retyped_request_field POST /internal/v1/runs/{run_id}/events request $.idempotency_key'],
    },
  ],
  [
    'request field dropped from a strict object',
    {
      mutate: (doc) => delete schemas(doc).CreateRunRequest.properties.metadata,
      want: ['removed_request_field POST /internal/v1/runs request $.metadata'],
    },
  ],
  [
    'tightened path parameter constraint (shared parameter: every operation using it)',
    {
      mutate: (doc) => {
        doc.components.parameters.RunId.schema.maxLength = 64;
      },
      want: ['GET /internal/v1/runs/{run_id}', 'POST /internal/v1/runs/{run_id}/events', 'POST /internal/v1/runs/{run_id}/cancel', 'GET /internal/v1/runs/{run_id}/stream'].map(
        (where) => `tightened_request_constraint ${where} path.run_id`,
      ),
    },
  ],
  [
    'tightened request body constraint',
    {
      mutate: (doc) => {
        schemas(doc).SyncTokenRequest.properties.ttl_seconds.maximum = 3600;
      },
      want: ['tightened_request_constraint POST /internal/v1/sync/token request $.ttl_seconds'],
    },
  ],
  [
    'security added to an operation that had none',
    {
      mutate: (doc) => {
        doc.paths['/healthz'].get.security = [{ internalBearer: [] }];
      },
      want: ['added_security GET /healthz security'],
    },
  ],
  [
    'a new required security scheme',
    {
      mutate: (doc) => {
        doc.paths['/internal/v1/khala/topics/{topic}/messages'].get.security = [{ syncToken: [], internalBearer: [] }];
      },
      want: ['new_required_security GET /internal/v1/khala/topics/{topic}/messages security'],
    },
  ],
  [
    'non-breaking: security renamed (same scheme), made optional, or given an alternative',
    {
      mutate: (doc) => {
        const schemes = doc.components.securitySchemes;
        schemes.bearerAuth = schemes.internalBearer;
        delete schemes.internalBearer;
        doc.security = [{ bearerAuth: [] }];
        for (const item of Object.values<any>(doc.paths)) {
          for (const op of Object.values<any>(item)) {
            if (Array.isArray(op?.security)) op.security = op.security.map((r: any) => ('internalBearer' in r ? { bearerAuth: r.internalBearer } : r));
          }
        }
        doc.paths['/internal/v1/runs/{run_id}'].get.security = [{ bearerAuth: [] }, {}];
        doc.paths['/internal/v1/khala/topics/{topic}/messages'].get.security = [{ syncToken: [] }, { bearerAuth: [] }];
      },
      want: [],
    },
  ],
  [
    'non-breaking: optional request field, response field, path, widened request type and enum, narrowed response enum',
    {
      mutate: (doc) => {
        schemas(doc).CreateRunRequest.properties.labels = { type: 'object', additionalProperties: true };
        schemas(doc).Run.properties.labels = { type: 'object', additionalProperties: true };
        doc.paths['/internal/v1/runs/{run_id}/labels'] = structuredClone(doc.paths['/internal/v1/runs/{run_id}']);
        doc.paths['/internal/v1/runs/{run_id}/labels'].get.operationId = 'getRunLabels';
        schemas(doc).SyncTokenRequest.properties.ttl_seconds.type = 'number';
        schemas(doc).SyncScope.enum.push('runtime.admin');
        schemas(doc).CreditSettlementOutcome.enum = ['success', 'failed'];
        doc.paths['/internal/v1/runs/{run_id}'].get.responses['418'] = { description: 'teapot' };
      },
      want: [],
    },
  ],
  [
    'non-breaking: renamed path parameter',
    {
      mutate: (doc) => {
        const item = doc.paths['/internal/v1/credit/agents/{agent_id}/exposure'];
        item.get.parameters[0].name = 'agent';
        doc.paths['/internal/v1/credit/agents/{agent}/exposure'] = item;
        delete doc.paths['/internal/v1/credit/agents/{agent_id}/exposure'];
      },
      want: [],
    },
  ],
];

const summary = (changes: BreakingChange[]) => changes.map((c) => `${c.kind} ${c.location}`);

describe('diffOpenApi', () => {
  it('finds no breaking change between the contract and itself', async () => {
    expect(await diffOpenApiDocuments(base, base)).toEqual([]);
    expect(diffOpenApi(base, base)).toEqual([]);
    expect(await diffOpenApiFiles(contractPaths.openapi, contractPaths.openapi)).toEqual([]);
  });

  it('finds none between the YAML source and the bundled document the server serves', async () => {
    const { bundled } = await loadOpenApiContract();
    expect(await diffOpenApiDocuments(base, JSON.parse(JSON.stringify(bundled)))).toEqual([]);
  });

  it.each(cases)('%s', async (_name, { mutate, want }) => {
    const changed = structuredClone(base);
    mutate(changed);
    const before = JSON.stringify(changed);
    const changes = await diffOpenApiDocuments(base, changed);
    expect(summary(changes)).toEqual(want);
    // The inputs are not mutated, and the sync diff of the un-dereferenced documents agrees.
    expect(JSON.stringify(changed)).toBe(before);
    expect(diffOpenApi(base, changed)).toEqual(changes);
  });

  it('says where and what', async () => {
    const changed = structuredClone(base);
    schemas(changed).Run.properties.latest_seq.type = 'string';
    schemas(changed).SyncScope.enum = ['runtime.run_events'];
    schemas(changed).RunStatus.enum.push('paused');
    delete changed.paths['/internal/v1/runs/{run_id}/events'].post.responses['429'];
    const messages = (await diffOpenApiDocuments(base, changed)).map((c) => c.message);
    expect(messages).toContain('GET /internal/v1/runs/{run_id} 200: $.run.latest_seq changed type integer → string');
    expect(messages).toContain(
      'POST /internal/v1/sync/token request: $.scopes[*] no longer accepts "runtime.worker_lifecycle", "runtime.codex_worker_events", "runtime.read" (now one of "runtime.run_events")',
    );
    expect(messages).toContain('GET /internal/v1/runs/{run_id} 200: $.run.status may now be "paused" (was one of "created", "running", "canceled", "completed", "failed")');
    expect(messages).toContain('POST /internal/v1/runs/{run_id}/events: response status 429 removed');
  });

  it('carries operation, method and status', async () => {
    const changed = structuredClone(base);
    schemas(changed).Run.properties.latest_seq.type = 'string';
    const [first] = await diffOpenApiDocuments(base, changed);
    expect(first).toEqual({
      kind: 'retyped_response_field',
      path: '/internal/v1/runs',
      method: 'post',
      status: '201',
      operationId: 'createRun',
      location: 'POST /internal/v1/runs 201 $.run.latest_seq',
      message: 'POST /internal/v1/runs 201: $.run.latest_seq changed type integer → string',
    });
  });

  it('diffs files (served JSON against local YAML)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-diff-'));
    try {
      const served = structuredClone(base);
      delete served.paths['/internal/v1/credit/health'];
      const servedPath = join(dir, 'openapi.json');
      writeFileSync(servedPath, JSON.stringify(served));
      expect(summary(await diffOpenApiFiles(contractPaths.openapi, servedPath))).toEqual(['removed_path /internal/v1/credit/health']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at recursive schemas', () => {
    const node = (extra: object) => ({
      type: 'object',
      properties: { value: { type: 'integer', ...extra }, children: { type: 'array', items: { $ref: '#/components/schemas/Node' } } },
    });
    const doc = (extra: object) => ({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: { '/tree': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } } },
      components: { schemas: { Node: node(extra) } },
    });
    expect(diffOpenApi(doc({}), doc({}))).toEqual([]);
    expect(summary(diffOpenApi(doc({}), doc({ type: 'string' })))).toEqual(['retyped_response_field GET /tree 200 $.value']);
  });
});

describe('formatBreakingChanges', () => {
  it('prints one aligned line per change, or says there are none', async () => {
    expect(formatBreakingChanges([])).toBe('no breaking changes');
    const changed = structuredClone(base);
    delete changed.paths['/internal/v1/khala/fanout/metrics'];
    schemas(changed).KhalaPollResponse.properties.head_seq.type = 'string';
    expect(formatBreakingChanges(await diffOpenApiDocuments(base, changed))).toBe(
      [
        '2 breaking changes:',
        '  retyped_response_field  GET /internal/v1/khala/topics/{topic}/messages 200: $.head_seq changed type integer → string',
        '  removed_path            /internal/v1/khala/fanout/metrics: path removed (operations GET)',
      ].join('\n'),
    );
  });
});

/** A small third-party-style document: one POST with a body and a query parameter, one GET. */
function petstore(version = '3.1.0'): any {
  return {
    openapi: version,
    info: { title: 'Pets', version: '1.0.0' },
    servers: [{ url: 'https://pets.example.org/api/v1' }],
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://pets.example.org/token', scopes: { 'pets:read': 'read', 'pets:write': 'write' } } } },
      },
    },
    paths: {
      '/pets': {
        post: {
          operationId: 'createPet',
          security: [{ oauth: ['pets:write'] }],
          parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    name: { type: 'string', minLength: 1, maxLength: 128 },
                    tag: { type: 'string' },
                    kind: { type: 'string', enum: ['cat', 'dog', 'bird'] },
                    age: { type: 'integer', minimum: 0, maximum: 100 },
                    weight: { type: 'number' },
                    tags: { type: 'array', items: { type: 'string' }, maxItems: 10 },
                  },
                },
              },
            },
          },
          responses: { '201': { description: 'created', content: { 'application/json': { schema: { type: 'object', properties: { name: { type: 'string', maxLength: 128 } } } } } } },
        },
      },
      '/pets/{id}': {
        get: { operationId: 'getPet', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'the pet' } } },
      },
    },
  };
}

const body = (doc: any) => doc.paths['/pets'].post.requestBody.content['application/json'].schema.properties;
const limit = (doc: any) => doc.paths['/pets'].post.parameters[0].schema;

describe('diffOpenApi: servers base paths', () => {
  /** The contract with `servers: [{url: /internal/v1}]` and paths relative to it; the other paths keep their full path through path- or operation-level servers. */
  function relativeToInternalV1(): any {
    const doc = structuredClone(base);
    doc.servers = [{ url: '/internal/v1' }];
    doc.paths = {};
    for (const [template, item] of Object.entries<any>(base.paths)) {
      if (template.startsWith('/internal/v1/')) doc.paths[template.slice('/internal/v1'.length)] = structuredClone(item);
      else doc.paths[template] = { ...structuredClone(item), servers: [{ url: 'http://127.0.0.1:4100/' }] };
    }
    // Operation-level servers win over path-level ones.
    doc.paths['/readyz'].get.servers = [{ url: 'https://{host}/', variables: { host: { default: 'runtime.example.org' } } }];
    return doc;
  }

  it('a `/internal/v1` server with relative paths is the same API as full paths: no change, either way', async () => {
    const relative = relativeToInternalV1();
    expect(relative.paths['/runs/{run_id}']).toBeDefined();
    expect(await diffOpenApiDocuments(base, relative)).toEqual([]);
    expect(await diffOpenApiDocuments(relative, base)).toEqual([]);
    expect(diffOpenApi(relative, base)).toEqual([]);
  });

  it('absolute server URLs (with variables at their defaults) and Swagger-style trailing slashes resolve the same', () => {
    const absolute = relativeToInternalV1();
    absolute.servers = [{ url: 'https://{host}/{prefix}/v1/', variables: { host: { default: 'a.example.org' }, prefix: { default: 'internal' } } }, { url: 'https://other.example.org/' }];
    expect(diffOpenApi(base, absolute)).toEqual([]);
  });

  it('a different base path moves every operation under it: removed paths, named by their full path', () => {
    const moved = relativeToInternalV1();
    moved.servers = [{ url: 'https://runtime.example.org/internal/v2' }];
    const changes = diffOpenApi(base, moved);
    expect(changes.every((c) => c.kind === 'removed_path' && c.path.startsWith('/internal/v1/'))).toBe(true);
    expect(changes.map((c) => c.path)).toContain('/internal/v1/runs/{run_id}');
    expect(changes).toHaveLength(Object.keys(base.paths).filter((p) => p.startsWith('/internal/v1/')).length);
  });

  it('an operation-level server that moves one operation removes that operation only', () => {
    const changed = structuredClone(base);
    changed.paths['/internal/v1/runs/{run_id}'].get.servers = [{ url: '/v2' }];
    expect(summary(diffOpenApi(base, changed))).toEqual(['removed_path /internal/v1/runs/{run_id}']);
    const petsOld = petstore();
    const petsNew = petstore();
    petsNew.paths['/pets'].post.servers = [{ url: 'https://pets.example.org/api/v2' }];
    petsNew.paths['/pets'].get = { operationId: 'listPets', responses: { '200': { description: 'ok' } } };
    expect(summary(diffOpenApi(petsOld, petsNew))).toEqual(['removed_operation POST /api/v1/pets']);
  });
});

describe('diffOpenApi: tightened request constraints', () => {
  /** [name, change to the new document, the one message expected, change to the old document]. */
  const tightenings: Array<[string, (doc: any) => void, string, ((doc: any) => void)?]> = [
    ['maxLength lowered', (d) => { body(d).name.maxLength = 64; }, 'POST /api/v1/pets request: $.name maxLength lowered 128 → 64'],
    ['maxLength added', (d) => { body(d).tag.maxLength = 32; }, 'POST /api/v1/pets request: $.tag maxLength 32 added'],
    ['minLength raised', (d) => { body(d).name.minLength = 3; }, 'POST /api/v1/pets request: $.name minLength raised 1 → 3'],
    ['minLength added', (d) => { body(d).tag.minLength = 2; }, 'POST /api/v1/pets request: $.tag minLength 2 added'],
    ['minimum raised', (d) => { body(d).age.minimum = 1; }, 'POST /api/v1/pets request: $.age minimum raised ≥ 0 → ≥ 1'],
    ['maximum lowered', (d) => { body(d).age.maximum = 30; }, 'POST /api/v1/pets request: $.age maximum lowered ≤ 100 → ≤ 30'],
    ['minimum added', (d) => { body(d).weight.minimum = 0; }, 'POST /api/v1/pets request: $.weight minimum ≥ 0 added'],
    ['exclusiveMinimum added (3.1, numeric)', (d) => { body(d).weight.exclusiveMinimum = 0; }, 'POST /api/v1/pets request: $.weight exclusiveMinimum > 0 added'],
    ['exclusiveMaximum replacing an equal maximum (3.1)', (d) => { delete body(d).age.maximum; body(d).age.exclusiveMaximum = 100; }, 'POST /api/v1/pets request: $.age exclusiveMaximum lowered ≤ 100 → < 100'],
    ['pattern added', (d) => { body(d).name.pattern = '^[a-z]+$'; }, 'POST /api/v1/pets request: $.name pattern /^[a-z]+$/ added'],
    ['pattern changed', (d) => { body(d).tag.pattern = '^[a-z]+$'; }, 'POST /api/v1/pets request: $.tag pattern changed /^[a-z0-9]+$/ → /^[a-z]+$/', (d) => { body(d).tag.pattern = '^[a-z0-9]+$'; }],
    ['enum narrowed', (d) => { body(d).kind.enum = ['cat', 'dog']; }, 'POST /api/v1/pets request: $.kind no longer accepts "bird" (now one of "cat", "dog")'],
    ['maxItems lowered', (d) => { body(d).tags.maxItems = 5; }, 'POST /api/v1/pets request: $.tags maxItems lowered 10 → 5'],
    ['query parameter maximum lowered', (d) => { limit(d).maximum = 50; }, 'POST /api/v1/pets: query.limit maximum lowered ≤ 100 → ≤ 50'],
    ['query parameter maximum on an allOf branch', (d) => { d.paths['/pets'].post.parameters[0].schema = { allOf: [limit(d), { maximum: 10 }] }; }, 'POST /api/v1/pets: query.limit maximum lowered ≤ 100 → ≤ 10'],
  ];

  it.each(tightenings)('%s is breaking', (_name, mutate, message, mutateOld) => {
    const oldDoc = petstore();
    const newDoc = petstore();
    mutate(newDoc);
    mutateOld?.(oldDoc);
    const changes = diffOpenApi(oldDoc, newDoc);
    expect(changes.map((c) => c.message)).toEqual([message]);
    expect(changes[0]!.kind).toBe(message.includes('no longer accepts') ? 'narrowed_request_enum' : 'tightened_request_constraint');
  });

  it('3.0 boolean exclusiveMinimum/exclusiveMaximum: flipping one on is breaking, off is not', () => {
    const oldDoc = petstore('3.0.3');
    const newDoc = petstore('3.0.3');
    body(newDoc).age.exclusiveMinimum = true;
    expect(diffOpenApi(oldDoc, newDoc).map((c) => c.message)).toEqual(['POST /api/v1/pets request: $.age exclusiveMinimum raised ≥ 0 → > 0']);
    expect(diffOpenApi(newDoc, oldDoc)).toEqual([]);
  });

  it('loosening is not breaking: every constraint relaxed or removed', () => {
    const oldDoc = petstore();
    const loose = petstore();
    Object.assign(body(loose).name, { minLength: 0, maxLength: 256 });
    body(loose).kind.enum.push('fish');
    Object.assign(body(loose).age, { minimum: -1 });
    delete body(loose).age.maximum;
    body(loose).tags.maxItems = 20;
    limit(loose).minimum = 0;
    delete limit(loose).maximum;
    expect(diffOpenApi(oldDoc, loose)).toEqual([]);
    // Removing a pattern loosens too.
    const patterned = petstore();
    body(patterned).name.pattern = '^[a-z]+$';
    expect(diffOpenApi(patterned, petstore())).toEqual([]);
  });

  it('tightening a response field is not a request change', () => {
    const newDoc = petstore();
    newDoc.paths['/pets'].post.responses['201'].content['application/json'].schema.properties.name.maxLength = 8;
    expect(diffOpenApi(petstore(), newDoc)).toEqual([]);
  });
});

describe('diffOpenApi: security', () => {
  it('security added to an operation that had none (or allowed anonymous access) is breaking', () => {
    const newDoc = petstore();
    newDoc.paths['/pets/{id}'].get.security = [{ apiKey: [] }];
    expect(diffOpenApi(petstore(), newDoc)).toEqual([
      { kind: 'added_security', path: '/api/v1/pets/{id}', method: 'get', operationId: 'getPet', location: 'GET /api/v1/pets/{id} security', message: 'GET /api/v1/pets/{id}: now requires apiKey (it required no authentication)' },
    ]);
    const optional = petstore();
    optional.paths['/pets/{id}'].get.security = [{ apiKey: [] }, {}];
    expect(summary(diffOpenApi(optional, newDoc))).toEqual(['added_security GET /api/v1/pets/{id} security']);
    // Document-level security applies to operations without their own.
    const global = petstore();
    global.security = [{ apiKey: [] }];
    expect(summary(diffOpenApi(petstore(), global))).toEqual(['added_security GET /api/v1/pets/{id} security']);
  });

  it('a new required scheme, or a scope more, is breaking; an extra alternative is not', () => {
    const both = petstore();
    both.paths['/pets'].post.security = [{ oauth: ['pets:write'], apiKey: [] }];
    expect(diffOpenApi(petstore(), both).map((c) => `${c.kind}: ${c.message}`)).toEqual(['new_required_security: POST /api/v1/pets: oauth(pets:write) no longer suffices (now requires oauth(pets:write) + apiKey)']);
    const scoped = petstore();
    scoped.paths['/pets'].post.security = [{ oauth: ['pets:write', 'pets:read'] }];
    expect(summary(diffOpenApi(petstore(), scoped))).toEqual(['new_required_security POST /api/v1/pets security']);
    const alternative = petstore();
    alternative.paths['/pets'].post.security = [{ apiKey: [] }, { oauth: ['pets:write'] }];
    expect(diffOpenApi(petstore(), alternative)).toEqual([]);
    // A scheme renamed in components with the same definition is the same scheme.
    const renamed = petstore();
    renamed.components.securitySchemes.key = { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'renamed' };
    delete renamed.components.securitySchemes.apiKey;
    renamed.paths['/pets/{id}'].get.security = [{ key: [] }];
    const keyed = petstore();
    keyed.paths['/pets/{id}'].get.security = [{ apiKey: [] }];
    expect(diffOpenApi(keyed, renamed)).toEqual([]);
    // ... while a different header is a different scheme.
    renamed.components.securitySchemes.key.name = 'X-Other-Key';
    expect(summary(diffOpenApi(keyed, renamed))).toEqual(['new_required_security GET /api/v1/pets/{id} security']);
  });
});

describe('diffOpenApiFiles: inputs', () => {
  it('an unreadable, unparsable or non-OpenAPI file, or an unresolvable $ref, is a one-line OpenApiInputError naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-diff-input-'));
    try {
      const write = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const cases: Array<[string, RegExp]> = [
        [join(dir, 'missing.yaml'), /missing\.yaml: no such file$/],
        [dir, /: is a directory, not a file$/],
        [write('bad.yaml', 'openapi: 3.1.0\ninfo: [unclosed\n'), /bad\.yaml: not valid YAML or JSON: /],
        [write('schema.json', '{"type": "object"}'), /schema\.json: not an OpenAPI document/],
        [write('dangling.yaml', 'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /a:\n    get:\n      responses:\n        "200": {$ref: "#/components/responses/Nope"}\n'), /dangling\.yaml: cannot resolve its \$refs: .*Nope/],
        [write('remote.yaml', 'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /a:\n    get:\n      responses:\n        "200": {$ref: "https://example.invalid/r.yaml"}\n'), /remote\.yaml: cannot resolve its \$refs: /],
      ];
      for (const [file, pattern] of cases) {
        const error = await diffOpenApiFiles(contractPaths.openapi, file).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, file).toBeInstanceOf(OpenApiInputError);
        expect((error as Error).message, file).toMatch(pattern);
        expect((error as Error).message).not.toContain('\n');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
