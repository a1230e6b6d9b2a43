/**
 * The contract lane (SPEC §4 "contract"): the local contracts lint clean; the
 * target's served openapi.json has no breaking change against the local contract;
 * schema-derived negative inputs for every operation with a body get a 4xx and the
 * error envelope; and — last — every HTTP answer any lane saw validates against its
 * operation's documented statuses, media types (exactly, contracts/media-type.ts),
 * schemas and response headers, with operation coverage reported. Every violation a
 * check finds goes to its evidence (log and report.json); the detail names the first few.
 */
import { loadOpenApiContract, type OperationSpec, type ResponseHeaders } from '../../contracts/openapi-operations.ts';
import { type CheckDefinition, expectThat } from '../check-runner.ts';
import { lintContracts } from '../contract/lint-contracts.ts';
import { negativeRequests } from '../contract/negative-inputs.ts';
import { diffOpenApiDocuments } from '../contract/openapi-diff.ts';
import { type Exchange, MAX_BODY_BYTES } from '../target-http.ts';
import { failOnViolations } from './violations.ts';

/**
 * An exchange as the contract lane reads it: harness/target-http.ts records the answer's
 * headers; an exchange recorded without them (e.g. built by a test) cannot have its
 * declared response headers judged here.
 */
type RecordedExchange = Exchange & { headers?: ResponseHeaders };

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
    async run(ctx) {
      const { http } = ctx;
      const contract = await loadOpenApiContract();
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
        // Status, media type and body are judged by contract.responses.match-schemas from the
        // recorded exchange; the headers the contract declares for the answer are judged here,
        // where the response is at hand (e.g. 429 without Retry-After).
        for (const violation of contract.validateResponseHeaders(operation.operationId, response.status, response.headers)) problems.push(`${negative.name}: ${violation.message}`);
        if (response.status < 400 || response.status >= 500) problems.push(`${negative.name} (${negative.description}): answered ${response.status}, expected 4xx`);
        else if (typeof response.json?.error?.code !== 'string') problems.push(`${negative.name}: the ${response.status} body is not the error envelope`);
        // The probe's ids exist nowhere, so 404 not_found is a correct refusal too.
        else if (response.json.error.code !== negative.expectedErrorCode && !(response.status === 404 && response.json.error.code === 'not_found')) {
          problems.push(`${negative.name} (${negative.description}): refused with ${response.status} ${response.json.error.code}, expected ${negative.expectedErrorCode}`);
        }
      }
      failOnViolations(ctx, problems, `${problems.length} problem(s) with the answers to ${cases.length} bad inputs`);
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
      async run(ctx) {
        const findings = await lintContracts();
        failOnViolations(
          ctx,
          findings.map((f) => `${f.contract}: ${f.message}`),
          `${findings.length} lint finding(s)`,
        );
        return 'contracts lint clean';
      },
    },
    {
      id: 'contract.served.no-breaking-changes',
      lane: 'contract',
      description: 'the served /internal/v1/openapi.json has no breaking change against contracts/runtime.openapi.yaml',
      async run(ctx) {
        const served = await ctx.http.request({ method: 'GET', path: '/internal/v1/openapi.json' });
        expectThat(served.status === 200 && served.json && typeof served.json === 'object', `GET /internal/v1/openapi.json: expected a JSON document, got ${served.status}`);
        const local = await loadOpenApiContract();
        let changes: Awaited<ReturnType<typeof diffOpenApiDocuments>>;
        try {
          changes = await diffOpenApiDocuments(local.bundled, served.json);
        } catch (error) {
          throw new Error(`the served openapi.json could not be resolved: ${(error as Error).message}`);
        }
        failOnViolations(
          ctx,
          changes.map((c) => c.message),
          `${changes.length} breaking change(s) in the served contract`,
        );
        return `served ${served.json.info?.title ?? 'contract'} ${served.json.info?.version ?? ''}: no breaking changes`;
      },
    },
    ...withBody.map(negativeInputCheck),
    {
      id: 'contract.responses.match-schemas',
      lane: 'contract',
      phase: 'last',
      description: 'every HTTP answer seen by any lane has a documented status, a documented media type, a body matching its schema and the headers the contract declares; operation coverage',
      async run(ctx) {
        const { run } = ctx;
        const contract = await loadOpenApiContract();
        const problems: string[] = [];
        const covered = new Set<string>();
        let validated = 0;
        let broken = 0;
        /** Answers whose status declares headers (429 Retry-After) but that were recorded without them. */
        const unjudgedHeaders: string[] = [];
        const judge = (exchange: RecordedExchange): void => {
          // No answer at all is the failure of the check that asked; a body over the cap is an answer no schema allows.
          if (exchange.error) return;
          if (exchange.truncated) {
            problems.push(`${exchange.method} ${exchange.path} (in ${exchange.check_id}): answered ${exchange.status} with a body over the harness's ${MAX_BODY_BYTES} byte cap`);
            return;
          }
          const operation = contract.matchOperation(exchange.method, exchange.path);
          if (!operation) {
            if (exchange.status !== 404) problems.push(`${exchange.method} ${exchange.path} (in ${exchange.check_id}): no such operation in the contract, answered ${exchange.status}`);
            return;
          }
          covered.add(operation.operationId);
          validated += 1;
          if (!exchange.headers && (operation.responses.get(exchange.status)?.headers.length ?? 0) > 0) unjudgedHeaders.push(`${exchange.method} ${exchange.path} ${exchange.status} (in ${exchange.check_id})`);
          // content_type '' is an answer without one: a documented body then has no media type.
          for (const violation of contract.validateResponse(operation.operationId, exchange.status, exchange.body, exchange.content_type, exchange.headers)) {
            problems.push(`${violation.message} (in ${exchange.check_id})`);
          }
        };
        for (const exchange of run.exchanges as RecordedExchange[]) {
          const before = problems.length;
          judge(exchange);
          if (problems.length > before) broken += 1;
        }
        if (unjudgedHeaders.length > 0) {
          ctx.log(`${unjudgedHeaders.length} answer(s) with declared response headers were recorded without their headers, so those headers are not judged here: ${unjudgedHeaders.join('; ')}`);
        }
        run.operationCoverage = { covered: [...covered].sort(), total: contract.operations.size };
        failOnViolations(ctx, problems, `${broken} answer(s) break the contract (${problems.length} violation(s))`);
        expectThat(validated > 0, `none of the ${run.exchanges.length} requests of this run got an answer that could be validated`);
        const missing = [...contract.operations.keys()].filter((id) => !covered.has(id)).sort();
        return `${validated} answers valid; operation coverage ${covered.size}/${contract.operations.size}${missing.length ? ` (not exercised: ${missing.join(', ')})` : ''}`;
      },
    },
  ];
}
