/**
 * The contract lane (SPEC §4 "contract"): the local contracts lint clean; the
 * target's served openapi.json has no breaking change against the local contract;
 * schema-derived negative inputs for every operation with a body get a 4xx and the
 * error envelope; and — last — every HTTP answer any lane saw validates against its
 * operation's documented statuses and schemas, with operation coverage reported.
 */
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { type CheckDefinition, expectThat } from '../check-runner.ts';
import { lintContracts } from '../contract/lint-contracts.ts';

export function contractLane(): CheckDefinition[] {
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
          if (exchange.error || exchange.truncated) continue;
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
        const missing = [...contract.operations.keys()].filter((id) => !covered.has(id)).sort();
        return `${validated} answers valid; operation coverage ${covered.size}/${contract.operations.size}${missing.length ? ` (not exercised: ${missing.join(', ')})` : ''}`;
      },
    },
  ];
}
