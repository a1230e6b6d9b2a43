import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadHash } from '../../contracts/payload-hash.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { DEV_INTERNAL_TOKEN, startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

let db: TestDatabase;
let t: TestServer;
beforeAll(async () => {
  db = await createTestDatabase('runs', 20);
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

async function newRun(owner = 'user-1') {
  const created = await t.api.call('POST', '/internal/v1/runs', { body: { thread_id: 'thread-1' }, headers: { 'x-oa-user-id': owner } });
  expect(created.status).toBe(201);
  return created.body.run.id as string;
}

async function journal(runId: string) {
  const { rows } = await db.pool.query<{ seq: string; payload_hash: string }>(
    'SELECT seq, payload_hash FROM runtime.sync_stream_events WHERE topic = $1 ORDER BY seq',
    [`run:${runId}:events`],
  );
  return rows.map((r) => Number(r.seq));
}

describe('runs and authority writes', () => {
  it('creates a run owned by x-oa-user-id and reads it back', async () => {
    const created = await t.api.call('POST', '/internal/v1/runs', { headers: { 'x-oa-user-id': 'owner-a' } });
    expect(created.status).toBe(201);
    expect(created.body.run).toMatchObject({ owner: 'owner-a', status: 'created', latest_seq: 0, thread_id: null });
    const read = await t.api.call('GET', `/internal/v1/runs/${created.body.run.id}`);
    expect(read.body.run).toEqual(created.body.run);
  });

  it('appends events with gapless seqs, returns the stored event on an idempotent replay, and 409 on a drifted replay', async () => {
    const runId = await newRun();
    const first = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'k1', payload: { b: 2, a: 1 } } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ idempotent_replay: false, event: { run_id: runId, seq: 1, payload_hash: payloadHash({ a: 1, b: 2 }) } });
    const second = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'k2', payload: {} } });
    expect(second.body.event.seq).toBe(2);

    const replay = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'k1', payload: { a: 1, b: 2 } } });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ event: first.body.event, idempotent_replay: true });

    const drifted = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'k1', payload: { a: 2 } } });
    expect(drifted.status).toBe(409);
    expect(drifted.body.error.code).toBe('conflict');
    expect(drifted.body.error.details.reason_code).toBe('idempotency_key_reused');

    const next = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'k3', payload: {} } });
    expect(next.body.event.seq).toBe(3); // the rejected write consumed no seq
    expect(await journal(runId)).toEqual([1, 2, 3]);
    const run = await t.api.call('GET', `/internal/v1/runs/${runId}`);
    expect(run.body.run).toMatchObject({ latest_seq: 3, status: 'running' });
  });

  it('writes the event, journal row, summary and checkpoint in one transaction', async () => {
    const runId = await newRun();
    await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'a', payload: { n: 1 } } });
    const topic = `run:${runId}:events`;
    const [seqRow, journalRow, summary, checkpoint] = await Promise.all([
      db.pool.query('SELECT head_seq FROM runtime.sync_topic_sequences WHERE topic = $1', [topic]),
      db.pool.query('SELECT seq, doc_key, doc_version, payload_hash FROM runtime.sync_stream_events WHERE topic = $1', [topic]),
      db.pool.query('SELECT as_of_seq, summary FROM runtime.sync_run_summaries WHERE run_id = $1', [runId]),
      db.pool.query(`SELECT last_seq FROM runtime.khala_projection_checkpoints WHERE projection = 'run_summary' AND topic = $1`, [topic]),
    ]);
    expect(seqRow.rows[0].head_seq).toBe('1');
    expect(journalRow.rows).toEqual([{ seq: '1', doc_key: `runtime/run_summary:${runId}`, doc_version: '1', payload_hash: payloadHash({ n: 1 }) }]);
    expect(summary.rows[0]).toEqual({ as_of_seq: '1', summary: { run_id: runId, status: 'running', latest_seq: 1, last_event_type: 'run.step' } });
    expect(checkpoint.rows[0].last_seq).toBe('1');
  });

  it('allocates gapless seqs 1..N under concurrent appends, including rejected ones in between (K1)', async () => {
    const runId = await newRun();
    const attempts = Array.from({ length: 40 }, (_, i) =>
      t.api.call('POST', `/internal/v1/runs/${runId}/events`, {
        // every fifth write reuses key k0 with another body: a 409 that must leave no hole
        body: { event_type: 'run.step', idempotency_key: i % 5 === 4 ? 'k0' : `k${i}`, payload: { i } },
      }),
    );
    const results = await Promise.all(attempts);
    const accepted = results.filter((r) => r.status === 200 && !r.body.idempotent_replay).map((r) => r.body.event.seq as number);
    expect(results.filter((r) => r.status === 409)).toHaveLength(8);
    expect(accepted.sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(await journal(runId)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  });

  it('cancels once (202), replays the cancel (200), appends run.cancel_requested and then rejects events with 409', async () => {
    const runId = await newRun();
    await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'a', payload: {} } });
    const cancel = await t.api.call('POST', `/internal/v1/runs/${runId}/cancel`, { body: { reason: 'operator' } });
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ idempotent_replay: false, run: { status: 'canceled', latest_seq: 2 } });
    const again = await t.api.call('POST', `/internal/v1/runs/${runId}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ idempotent_replay: true, run: { status: 'canceled', latest_seq: 2 } });
    const { rows } = await db.pool.query('SELECT event_type, payload FROM runtime.sync_stream_events WHERE topic = $1 AND seq = 2', [`run:${runId}:events`]);
    expect(rows[0]).toEqual({ event_type: 'run.cancel_requested', payload: { reason: 'operator' } });
    const late = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'b', payload: {} } });
    expect(late.status).toBe(409);
    expect(late.body.error.details.reason_code).toBe('run_terminal');
    // an idempotent replay of an event accepted before the cancel still answers the stored event
    const replay = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'a', payload: {} } });
    expect(replay.body).toMatchObject({ idempotent_replay: true, event: { seq: 1 } });
  });

  it('answers 404 for an unknown run on every run operation', async () => {
    for (const [method, path, body] of [
      ['GET', '/internal/v1/runs/run_missing', undefined],
      ['POST', '/internal/v1/runs/run_missing/events', { event_type: 'run.step', idempotency_key: 'a', payload: {} }],
      ['POST', '/internal/v1/runs/run_missing/cancel', {}],
    ] as const) {
      const response = await t.api.call(method, path, { body });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
  });

  it('answers 413 payload_too_large above the run_events payload limit and consumes no seq', async () => {
    const runId = await newRun();
    const big = 'x'.repeat(t.config.khala.classes.run_events.maxPayloadBytes);
    const response = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: 'big', payload: { big } } });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
    expect(await journal(runId)).toEqual([]);
  });
});

describe('request validation and errors', () => {
  it.each([
    ['missing required field', { idempotency_key: 'k', payload: {} }, 'missing required field event_type'],
    ['wrong type', { event_type: 'run.step', idempotency_key: 7, payload: {} }, 'must be string'],
    ['pattern violation', { event_type: 'Run Step', idempotency_key: 'k', payload: {} }, 'must match pattern'],
    ['unknown field', { event_type: 'run.step', idempotency_key: 'k', payload: {}, extra: 1 }, 'unknown field extra'],
    ['payload not an object', { event_type: 'run.step', idempotency_key: 'k', payload: [1] }, 'must be object'],
  ])('rejects a body with a %s as 400 invalid_request naming the field', async (_name, body, message) => {
    const runId = await newRun();
    const response = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(JSON.stringify(response.body.error.details.violations)).toContain(message);
  });

  it('rejects malformed JSON, a wrong content type and an oversize body without a 5xx', async () => {
    const runId = await newRun();
    const malformed = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { rawBody: '{"event_type":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    const wrongType = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { rawBody: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(400);
    const oversize = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, {
      rawBody: JSON.stringify({ event_type: 'run.step', idempotency_key: 'k', payload: { s: 'y'.repeat(2_000_000) } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(oversize.status).toBe(413);
  });

  it('requires the internal bearer token, answering 401 with a reason code', async () => {
    const missing = await t.api.call('GET', '/internal/v1/health', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error.details.reason_code).toBe('missing_authorization');
    const wrong = await t.api.call('GET', '/internal/v1/health', { token: `${DEV_INTERNAL_TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.details.reason_code).toBe('invalid_token');
    const scheme = await t.api.call('GET', '/internal/v1/health', { token: null, headers: { authorization: `Basic ${DEV_INTERNAL_TOKEN}` } });
    expect(scheme.body.error.details.reason_code).toBe('invalid_authorization_scheme');
  });

  it('answers unknown routes with the 404 error envelope', async () => {
    const response = await t.api.call('GET', '/internal/v1/nope');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('logs one JSON line per request with its request id, and never the bearer token', async () => {
    await t.api.call('GET', '/internal/v1/health', { headers: { 'x-request-id': 'req-log-check-1' } });
    const line = t.logLines.map((l) => JSON.parse(l)).find((l) => l.request_id === 'req-log-check-1');
    expect(line).toMatchObject({ msg: 'request completed', route: '/internal/v1/health', status: 200 });
    expect(t.logLines.join('\n')).not.toContain(DEV_INTERNAL_TOKEN);
  });
});

describe('authority write modes', () => {
  it('shadow_only answers 202 without a seq and publishes nothing; read_only answers 503 write_path_frozen', async () => {
    const runId = await newRun();
    const shadow = await startTestServer(db, { RUNTIME_AUTHORITY_WRITE_MODE: 'shadow_only' });
    const frozen = await startTestServer(db, { RUNTIME_AUTHORITY_WRITE_MODE: 'read_only' });
    try {
      const body = { event_type: 'run.step', idempotency_key: 'shadow-1', payload: { s: 1 } };
      const recorded = await shadow.api.call('POST', `/internal/v1/runs/${runId}/events`, { body });
      expect(recorded.status).toBe(202);
      expect(recorded.body).toMatchObject({ status: 'shadow_recorded', operation: 'append_run_event', payload_hash: payloadHash(body) });
      expect(recorded.body.seq).toBeUndefined();
      expect(await journal(runId)).toEqual([]);
      const shadowRun = await shadow.api.call('POST', '/internal/v1/runs', { headers: { 'x-oa-user-id': 'u' } });
      expect(shadowRun.status).toBe(202);

      for (const [path, extra] of [
        ['/internal/v1/runs', { 'x-oa-user-id': 'u' }],
        [`/internal/v1/runs/${runId}/events`, {}],
        [`/internal/v1/runs/${runId}/cancel`, {}],
      ] as const) {
        const response = await frozen.api.call('POST', path, { body: path.endsWith('events') ? body : {}, headers: extra });
        expect(response.status, path).toBe(503);
        expect(response.body.error.code).toBe('write_path_frozen');
      }
      const read = await frozen.api.call('GET', `/internal/v1/runs/${runId}`);
      expect(read.status).toBe(200);
      const health = await frozen.api.call('GET', '/healthz', { token: null });
      expect(health.body.authority_write_mode).toBe('read_only');
    } finally {
      await shadow.close();
      await frozen.close();
    }
  });
});
