import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { contractPaths } from '../../contracts/contract-files.ts';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { type BreakingChange, diffOpenApi, diffOpenApiDocuments, diffOpenApiFiles, formatBreakingChanges } from '../../harness/contract/openapi-diff.ts';

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
