/**
 * The health lane (SPEC §4): liveness, readiness (the /readyz body of
 * contracts/runtime.openapi.yaml, at the latest contract migration), the internal health
 * document and its schema, the running build sha against --expected-build-sha, and latency.
 */

import { loadContractMigrations } from '../../contracts/contract-files.ts';
import { isJsonMediaType } from '../../contracts/media-type.ts';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { type CheckDefinition, CheckSkip, expectThat } from '../check-runner.ts';
import { percentile } from '../report/samples-section.ts';
import type { HttpResponse } from '../target-http.ts';
import { failOnViolations } from './violations.ts';

export const LATENCY_SAMPLES = 20;
export const LATENCY_P95_LIMIT_MS = 1000;

/** The p-th percentile of unsorted samples (0 when there are none). */
function samplePercentile(samples: number[], p: number): number {
  return samples.length === 0 ? 0 : percentile([...samples].sort((a, b) => a - b), p);
}

/** The body as JSON when its media type is JSON (contracts/media-type.ts), otherwise undefined. */
function jsonBody(r: HttpResponse): unknown {
  if (!isJsonMediaType(r.headers.get('content-type'))) return undefined;
  try {
    return JSON.parse(r.text);
  } catch {
    return undefined;
  }
}

/** The version of the latest contract migration (contracts/migrations), the highest one. */
export function latestContractMigration(): string | undefined {
  return loadContractMigrations()
    .map((m) => m.version)
    .reduce<string | undefined>((latest, version) => (latest === undefined || version > latest ? version : latest), undefined);
}

export function healthLane(): CheckDefinition[] {
  return [
    {
      id: 'health.healthz.status',
      lane: 'health',
      description: 'GET /healthz answers 200 with status ok',
      async run({ http }) {
        const r = await http.request({ method: 'GET', path: '/healthz' });
        expectThat(r.status === 200, `GET /healthz: expected 200, got ${r.status}`);
        expectThat(r.json?.status === 'ok', `GET /healthz: $.status expected "ok", got ${JSON.stringify(r.json?.status)}`);
        return `build_sha=${r.json.build_sha} authority_write_mode=${r.json.authority_write_mode}`;
      },
    },
    {
      id: 'health.readyz.ready',
      lane: 'health',
      description: 'GET /readyz answers 200 with the documented ReadyzResponse JSON: database reachable and schema_version the latest contract migration',
      async run(ctx) {
        const r = await ctx.http.request({ method: 'GET', path: '/readyz' });
        const body = jsonBody(r) as { reasons?: unknown; schema_version?: unknown } | undefined;
        const reasons = Array.isArray(body?.reasons) ? `: ${body.reasons.join(', ')}` : '';
        const problems: string[] = [];
        if (r.status !== 200) problems.push(`GET /readyz: expected 200, got ${r.status}${reasons}`);
        const contract = await loadOpenApiContract();
        for (const v of contract.validateResponse('getReadyz', r.status, r.text, r.headers.get('content-type') ?? '', r.headers)) problems.push(v.message);
        const latest = latestContractMigration();
        if (r.status === 200 && body?.schema_version !== latest) {
          problems.push(`GET /readyz: schema_version ${JSON.stringify(body?.schema_version)}, expected ${latest}, the latest contract migration (contracts/migrations)`);
        }
        failOnViolations(ctx, problems, `${problems.length} problem(s) with GET /readyz`);
        return `schema_version=${body?.schema_version}`;
      },
    },
    {
      id: 'health.internal.schema',
      lane: 'health',
      description: 'GET /internal/v1/health answers 200 and matches InternalHealthResponse',
      async run(ctx) {
        const r = await ctx.http.request({ method: 'GET', path: '/internal/v1/health' });
        const contract = await loadOpenApiContract();
        const violations = contract.validateResponse('getInternalHealth', r.status, r.text, r.headers.get('content-type') ?? '', r.headers);
        failOnViolations(
          ctx,
          violations.map((v) => v.message),
          `GET /internal/v1/health: ${violations.length} violation(s) of InternalHealthResponse`,
        );
        const body = jsonBody(r) as { status?: unknown; schema_version?: unknown; config_fingerprint?: unknown } | undefined;
        expectThat(r.status === 200, `GET /internal/v1/health: expected 200, got ${r.status}`);
        expectThat(body?.status === 'ok', `GET /internal/v1/health: $.status is ${JSON.stringify(body?.status)}`);
        return `schema_version=${body.schema_version} config_fingerprint=${body.config_fingerprint}`;
      },
    },
    {
      id: 'health.build-sha.expected',
      lane: 'health',
      description: 'the running build_sha equals --expected-build-sha on /healthz and /internal/v1/health',
      async run({ http, target }) {
        if (!target.expected_build_sha) throw new CheckSkip('missing_input:expected_build_sha');
        const healthz = await http.request({ method: 'GET', path: '/healthz' });
        const internal = await http.request({ method: 'GET', path: '/internal/v1/health' });
        for (const [path, sha] of [['/healthz', healthz.json?.build_sha], ['/internal/v1/health', internal.json?.build_sha]] as const) {
          expectThat(sha === target.expected_build_sha, `${path}: build_sha ${JSON.stringify(sha)}, expected ${target.expected_build_sha}`);
        }
        return `build_sha=${target.expected_build_sha}`;
      },
    },
    {
      id: 'health.latency.healthz-p95',
      lane: 'health',
      description: `p95 of ${LATENCY_SAMPLES} sequential GET /healthz is at most ${LATENCY_P95_LIMIT_MS} ms`,
      async run({ http, run }) {
        const samples: number[] = [];
        for (let i = 0; i < LATENCY_SAMPLES; i++) {
          const r = await http.request({ method: 'GET', path: '/healthz' });
          expectThat(r.status === 200, `GET /healthz #${i + 1}: ${r.status}`);
          samples.push(r.durationMs);
        }
        run.latencies['GET /healthz'] = samples;
        const p95 = samplePercentile(samples, 95);
        expectThat(p95 <= LATENCY_P95_LIMIT_MS, `p95 ${p95} ms exceeds ${LATENCY_P95_LIMIT_MS} ms`);
        return `p50=${samplePercentile(samples, 50)} ms p95=${p95} ms max=${Math.max(...samples)} ms`;
      },
    },
  ];
}
