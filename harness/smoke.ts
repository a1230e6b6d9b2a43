/**
 * `runtime-gate smoke`: seed 000's health + authority-path probe against a deployed
 * runtime. Every write uses the owner `runtime-gate-probe-<probe id>`.
 */
import { randomUUID } from 'node:crypto';

export interface SmokeOptions {
  baseUrl: string;
  internalToken?: string;
  /** Skip the authority write path even on a writable target. */
  noWrites?: boolean;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface SmokeStep {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SmokeResult {
  ok: boolean;
  steps: SmokeStep[];
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const steps: SmokeStep[] = [];
  const auth: Record<string, string> = options.internalToken ? { authorization: `Bearer ${options.internalToken}` } : {};

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await doFetch(`${base}${path}`, {
      method,
      headers: { ...auth, ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    // biome-ignore lint/suspicious/noExplicitAny: a probe reads a few fields of an untrusted body and checks each one
    return { status: response.status, json: json as Record<string, any> | undefined, text };
  }

  async function step(name: string, fn: () => Promise<string>): Promise<boolean> {
    try {
      steps.push({ name, ok: true, detail: await fn() });
      return true;
    } catch (error) {
      steps.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }
  const expectStatus = (path: string, got: number, want: number, text: string) => {
    if (got !== want) throw new Error(`${path}: expected ${want}, got ${got}: ${text.slice(0, 200)}`);
  };

  let writeMode = 'unknown';
  await step('healthz', async () => {
    const r = await call('GET', '/healthz');
    expectStatus('GET /healthz', r.status, 200, r.text);
    if (r.json?.status !== 'ok') throw new Error(`GET /healthz: status is ${String(r.json?.status)}, expected ok`);
    writeMode = String(r.json.authority_write_mode);
    return `build_sha=${r.json.build_sha} authority_write_mode=${writeMode}`;
  });
  await step('readyz', async () => {
    const r = await call('GET', '/readyz');
    expectStatus('GET /readyz', r.status, 200, r.text);
    return `schema_version=${r.json?.schema_version}`;
  });
  if (!options.internalToken) {
    steps.push({ name: 'authority-path', ok: true, detail: 'skipped: no internal token given' });
  } else {
    await step('internal-health', async () => {
      const r = await call('GET', '/internal/v1/health');
      expectStatus('GET /internal/v1/health', r.status, 200, r.text);
      return `status=${r.json?.status} schema_version=${r.json?.schema_version}`;
    });
    if (options.noWrites || writeMode !== 'rust_active') {
      steps.push({ name: 'authority-path', ok: true, detail: `skipped: ${options.noWrites ? '--no-writes' : `authority_write_mode=${writeMode}`}` });
    } else {
      await step('authority-path', async () => {
        const probe = `runtime-gate-probe-${randomUUID().slice(0, 8)}`;
        const created = await call('POST', '/internal/v1/runs', { thread_id: probe }, { 'x-oa-user-id': probe });
        expectStatus('POST /internal/v1/runs', created.status, 201, created.text);
        const runId = String(created.json?.run?.id);
        const appended = await call('POST', `/internal/v1/runs/${runId}/events`, {
          event_type: 'runtime_gate.smoke',
          idempotency_key: `${probe}-1`,
          payload: { probe },
        });
        expectStatus(`POST /internal/v1/runs/${runId}/events`, appended.status, 200, appended.text);
        const seq = appended.json?.event?.seq;
        if (seq !== 1) throw new Error(`first event of a new run has seq ${String(seq)}, expected 1`);
        const replay = await call('POST', `/internal/v1/runs/${runId}/events`, {
          event_type: 'runtime_gate.smoke',
          idempotency_key: `${probe}-1`,
          payload: { probe },
        });
        expectStatus('idempotent replay', replay.status, 200, replay.text);
        if (replay.json?.idempotent_replay !== true || replay.json?.event?.seq !== 1) {
          throw new Error(`replaying the same idempotency key answered seq ${String(replay.json?.event?.seq)}, idempotent_replay ${String(replay.json?.idempotent_replay)}`);
        }
        const read = await call('GET', `/internal/v1/runs/${runId}`);
        expectStatus(`GET /internal/v1/runs/${runId}`, read.status, 200, read.text);
        if (read.json?.run?.latest_seq !== 1) throw new Error(`run latest_seq is ${String(read.json?.run?.latest_seq)}, expected 1`);
        return `run ${runId}: append seq 1, idempotent replay, read back latest_seq 1`;
      });
    }
  }
  return { ok: steps.every((s) => s.ok), steps };
}
