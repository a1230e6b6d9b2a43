/**
 * The contract lane (SPEC §4 "contract"): the local contracts lint clean; the
 * target's served openapi.json has no breaking change against the local contract;
 * schema-derived negative inputs for every operation with a body get a 4xx and the
 * error envelope; and — last — every HTTP answer any lane saw validates against its
 * operation's documented statuses and schemas, with operation coverage reported.
 */
import { loadOpenApiContract, type OperationSpec } from '../../contracts/openapi-operations.ts';
import { type CheckDefinition, expectThat } from '../check-runner.ts';
import { lintContracts } from '../contract/lint-contracts.ts';
import { negativeRequests } from '../contract/negative-inputs.ts';
import { diffOpenApiDocuments } from '../contract/openapi-diff.ts';
import { MAX_BODY_BYTES } from '../target-http.ts';

const kebab = (id: string) => id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** A concrete path for an operation template; ids that exist nowhere, since bad bodies must be refused first or as 404. */
function concretePath(operation: OperationSpec): string {
  return operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => (name === 'agent_id' ? '0'.repeat(64) : `runtime-gate-probe-missing-${name}`));
}

/** SPEC §4: schema-derived negative inputs get a 4xx and the error envelope, never a 5xx or a hang. */
function negativeInputCheck(operation: OperationSpec): CheckDefinition {
  return {
    id: `contract.negative.${kebab(operation.operationId)}`,
    lane: 'contract',
    needsWrites: operation.method !== 'get',
    timeoutMs: 60_000,
    description: `${operation.method.toUpperCase()} ${operation.path}: schema-derived bad bodies answer 4xx with the error envelope`,
    async run({ http }) {
      const path = concretePath(operation);
      const headers: Record<string, string> = operation.path === '/internal/v1/runs' ? { 'x-oa-user-id': 'runtime-gate-probe' } : {};
      const problems: string[] = [];
      const cases = negativeRequests(operation, { now: new Date() });
      for (const negative of cases) {
        let response: Awaited<ReturnType<typeof http.request>>;
        try {
          response = await http.request({ method: operation.method.toUpperCase(), path, rawBody: negative.body, headers: { ...headers, 'content-type': negative.contentType }, timeoutMs: 10_000 });
        } catch (error) {
          problems.push(`${negative.name}: ${(error as Error).message}`);
          continue;
        }
        if (response.status < 400 || response.status >= 500) problems.push(`${negative.name} (${negative.description}): answered ${response.status}, expected 4xx`);
        else if (typeof response.json?.error?.code !== 'string') problems.push(`${negative.name}: the ${response.status} body is not the error envelope`);
        // The probe's ids exist nowhere, so 404 not_found is a correct refusal too.
        else if (response.json.error.code !== negative.expectedErrorCode && !(response.status === 404 && response.json.error.code === 'not_found')) {
          problems.push(`${negative.name} (${negative.description}): refused with ${response.status} ${response.json.error.code}, expected ${negative.expectedErrorCode}`);
        }
      }
      expectThat(problems.length === 0, `${problems.length} of ${cases.length} bad inputs were not refused properly: ${problems.slice(0, 8).join('; ')}`);
      return `${cases.length} bad inputs refused with 4xx and the expected error code`;
    },
  };
}

export async function contractLane(): Promise<CheckDefinition[]> {
  const contract = await loadOpenApiContract();
  const withBody = [...contract.operations.values()].filter((op) => op.requestBody);
  return [
    {
      id: 'contract.lint.local-contracts',
      lane: 'contract',
      phase: 'first',
      description: 'the local contracts lint clean (swagger-parser, @asyncapi/parser, ajv, migration names)',
      async run() {
        const findings = await lintContracts();
        expectThat(findings.length === 0, findings.map((f) => `${f.contract}: ${f.message}`).join('; '));
        return 'contracts lint clean';
      },
    },
    {
      id: 'contract.served.no-breaking-changes',
      lane: 'contract',
      description: 'the served /internal/v1/openapi.json has no breaking change against contracts/runtime.openapi.yaml',
      async run({ http }) {
        const served = await http.request({ method: 'GET', path: '/internal/v1/openapi.json' });
        expectThat(served.status === 200 && served.json && typeof served.json === 'object', `GET /internal/v1/openapi.json: expected a JSON document, got ${served.status}`);
        const local = await loadOpenApiContract();
        let changes: Awaited<ReturnType<typeof diffOpenApiDocuments>>;
        try {
          changes = await diffOpenApiDocuments(local.bundled, served.json);
        } catch (error) {
          throw new Error(`the served openapi.json could not be resolved: ${(error as Error).message}`);
        }
        expectThat(changes.length === 0, `${changes.length} breaking change(s) in the served contract: ${changes.slice(0, 8).map((c) => c.message).join('; ')}`);
        return `served ${served.json.info?.title ?? 'contract'} ${served.json.info?.version ?? ''}: no breaking changes`;
      },
    },
    ...withBody.map(negativeInputCheck),
    {
      id: 'contract.responses.match-schemas',
      lane: 'contract',
      phase: 'last',
      description: 'every HTTP answer seen by any lane has a documented status and matches its schema; operation coverage',
      async run({ run }) {
        const contract = await loadOpenApiContract();
        const problems: string[] = [];
        const covered = new Set<string>();
        let validated = 0;
        for (const exchange of run.exchanges) {
          // No answer at all is the failure of the check that asked; a body over the cap is an answer no schema allows.
          if (exchange.error) continue;
          if (exchange.truncated) {
            problems.push(`${exchange.method} ${exchange.path} (in ${exchange.check_id}): answered ${exchange.status} with a body over the harness's ${MAX_BODY_BYTES} byte cap`);
            continue;
          }
          const operation = contract.matchOperation(exchange.method, exchange.path);
          if (!operation) {
            if (exchange.status !== 404) problems.push(`${exchange.method} ${exchange.path} (in ${exchange.check_id}): no such operation in the contract, answered ${exchange.status}`);
            continue;
          }
          covered.add(operation.operationId);
          validated += 1;
          for (const violation of contract.validateResponse(operation.operationId, exchange.status, exchange.body, exchange.content_type || undefined)) {
            problems.push(`${violation.message} (in ${exchange.check_id})`);
          }
        }
        run.operationCoverage = { covered: [...covered].sort(), total: contract.operations.size };
        expectThat(problems.length === 0, `${problems.length} answer(s) break the contract: ${problems.slice(0, 10).join('; ')}`);
        expectThat(validated > 0, `none of the ${run.exchanges.length} requests of this run got an answer that could be validated`);
        const missing = [...contract.operations.keys()].filter((id) => !covered.has(id)).sort();
        return `${validated} answers valid; operation coverage ${covered.size}/${contract.operations.size}${missing.length ? ` (not exercised: ${missing.join(', ')})` : ''}`;
      },
    },
  ];
}
