/**
 * The khala lane against the reference server started with a `test` profile (small
 * budgets and retention, fast heartbeats): every check passes; then each check fails
 * against a faulty target that breaks its rule (HTTP faults and rewritten WS frames).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGate } from '../../harness/run-gate.ts';
import { type Fault, startFaultyTarget, type WsConnection, type WsFault } from '../support/faulty-target.ts';
import { startTestServer, type TestServer } from '../support/reference-server.ts';
import { expectCheckFails, type GateFixture, startGateFixture } from './gate-fixture.ts';
import { KHALA_TEST_PROFILE_ENV, khalaTestTarget } from './khala-profile.ts';

let fixture: GateFixture;
/** A second instance of the same deployment (same database) for K9. */
let node2: TestServer;
beforeAll(async () => {
  fixture = await startGateFixture('harness_khala', KHALA_TEST_PROFILE_ENV);
  node2 = await startTestServer(fixture.db, { LOG_LEVEL: 'warn', ...KHALA_TEST_PROFILE_ENV });
});
afterAll(async () => {
  await node2?.close();
  await fixture?.close();
});

describe('khala lane against a correct target', () => {
  it('passes every K1–K9 (K9 with node_urls), boundary and threat-model check on a test profile', async () => {
    const run = await runGate({ candidate: fixture.candidate(fixture.upstream.url, khalaTestTarget({ node_urls: [node2.url] })), lanes: ['khala'], outDir: fixture.outDir() });
    const notPassed = run.report.checks.filter((c) => c.status !== 'passed').map((c) => `${c.check_id}: ${c.status} ${c.detail}`);
    expect(notPassed).toEqual([]);
    expect(run.report.decision).toBe('GO');
  });
});

type Frame = any;
/** Applies `rewrite` to update_batch frames, passing every other frame through. */
const onBatches = (rewrite: (batch: Frame, connection: WsConnection) => Frame[]): WsFault => ({ serverFrame: (f, c) => (f.type === 'update_batch' ? rewrite(f, c) : [f]) });
/** Applies `rewrite` to error frames of one code. */
const onErrors = (code: string, rewrite: (error: Frame) => Frame): WsFault => ({ serverFrame: (f) => [f.type === 'error' && f.code === code ? rewrite(f) : f] });
const withReasonCodes = (from: string[], to: string[]) => onErrors('stale_cursor', (e) => (JSON.stringify(e.details.reason_codes) === JSON.stringify(from) ? { ...e, details: { ...e.details, reason_codes: to } } : e));
const FLOOR = 'retention_floor_breach';
const BUDGET = 'replay_budget_exceeded';
const replayed = new WeakSet<WsConnection>();
const staleSeen = new Set<string>();

/** [check id, HTTP faults, WebSocket faults, expected failure reason] — one target that breaks each rule. */
const FAILING_TARGETS: [string, Fault[], WsFault[], RegExp][] = [
  ['khala.k1.gapless-concurrent-writes', [{ method: 'GET', path: /\/messages$/, json: (b) => (Array.isArray(b.messages) ? { ...b, messages: b.messages.filter((m: Frame) => m.seq !== 2) } : b) }], [], /non-contiguous poll page|HTTP poll ledger/],
  ['khala.k2.duplicate-tolerance', [], [onBatches((b) => (b.updates.length ? [b, { ...b, updates: b.updates.map((u: Frame) => ({ ...u, payload_hash: 'f'.repeat(64) })) }] : [b]))], /anomalies a correct target never causes/],
  ['khala.k2.reorder-tolerance', [], [onBatches((b) => [{ ...b, updates: b.updates.filter((u: Frame) => u.seq !== 5) }])], /the client applied up to seq 4 of|stale_cursor .* 4: stale cursor 4/],
  ['khala.k3.payload-hash-immutable', [], [onBatches((b) => [{ ...b, updates: b.updates.map((u: Frame) => (u.seq === 3 ? { ...u, payload: { tampered: true } } : u)) }])], /payload hashes to/],
  // A live batch sent twice byte for byte is a transport duplicate K2 allows: khala.k4.exact-resume reads
  // as a K2 consumer and passes. A seam duplicate in a distinct frame fails the optional
  // khala.k4.no-seam-duplicate instead: test/harness/khala-through-faults.int.test.ts.
  ['khala.k5.resume-at-head', [], [onBatches((b) => [b.updates.length === 0 ? { ...b, replay_complete: false } : b])], /expected one empty batch with replay_complete true/],
  ['khala.k5.cursor-ahead-of-head', [], [onErrors('bad_subscription', (e) => ({ ...e, details: { reason_code: 'invalid_frame' } }))], /expected bad_subscription cursor_ahead_of_head/],
  ['khala.k6.retention-floor-boundary', [], [withReasonCodes([FLOOR, BUDGET], [BUDGET])], /reason_codes \["replay_budget_exceeded"\], expected \["retention_floor_breach","replay_budget_exceeded"\]/],
  ['khala.k6.budget-boundary', [], [withReasonCodes([BUDGET], [FLOOR])], /reason_codes \["retention_floor_breach"\], expected \["replay_budget_exceeded"\]/],
  ['khala.k6.both-reasons-ordered', [], [withReasonCodes([FLOOR, BUDGET], [BUDGET, FLOOR])], /reason_codes \["replay_budget_exceeded","retention_floor_breach"\]/],
  ['khala.k6.snapshot-rebootstrap', [], [onErrors('stale_cursor', ({ details: { snapshot: _, ...details }, ...e }) => ({ ...e, details }))], /without a valid snapshot/],
  ['khala.limits.payload-size', [{ method: 'POST', path: /\/events$/, when: (r) => r.text.length > 4096, status: 200 }], [], /answered 200, expected 413/],
  ['khala.limits.publish-rate', [{ method: 'POST', path: /\/events$/, mapStatus: (s) => (s === 429 ? 503 : s) }], [], /unexpected statuses: 503/],
  ['khala.k7.epoch-mismatch', [], [withReasonCodes(['epoch_mismatch'], [FLOOR])], /expected stale_cursor \["epoch_mismatch"\]/],
  ['khala.k8.surfaces-agree', [{ method: 'GET', path: /\/stream$/, rewriteText: (t) => t.replace(/(?:^|\n\n)[^\n]*\n?id: \d+\ndata: [^\n]*\n\n$/, '\n\n') }], [], /SSE from cursor 0: entry \d+ differs/],
  ['khala.liveness.heartbeat', [], [{ serverFrame: (f) => (f.type === 'heartbeat' ? [] : [f]) }], /no heartbeat within/],
  ['khala.threat.handshake-deny-codes', [], [{ deny: (status, body) => (body?.error?.details?.reason_code === 'missing_iat' ? { status, body: { error: { ...body.error, details: { reason_code: 'invalid_token' } } } } : { status, body }) }], /denied with unauthorized\/invalid_token, expected unauthorized\/missing_iat/],
  ['khala.threat.origin-allowlist', [], [{ dropRequestHeaders: ['origin'] }], /untrusted Origin with a valid token: upgrade answered 101/],
  ['khala.threat.scope-and-ownership', [], [onErrors('forbidden_topic', (e) => (e.details.reason_code === 'not_owner' ? { ...e, details: { reason_code: 'missing_scope' } } : e))], /expected forbidden_topic not_owner/],
  ['khala.threat.session-revocation', [], [{ closeCode: (code) => (code === 4001 ? 1000 : code) }], /closed with 1000, expected 4001/],
  // The faults issue 6 names, each against the check that must catch it.
  [
    'khala.k4.exact-resume',
    [],
    [
      onBatches((b, c) => {
        // The first batch with updates on a connection is the replay: it loses its first event.
        if (!b.updates.length || replayed.has(c)) return [b];
        replayed.add(c);
        return [{ ...b, updates: b.updates.slice(1) }];
      }),
    ], /resume after \d+ with a concurrent writer: expected seq \d+ after \d+, got \d+ \(gap of 1\)/],
  ['khala.k4.exact-resume', [], [onBatches((b) => [b.updates.length >= 2 ? { ...b, updates: [b.updates[1], b.updates[0], ...b.updates.slice(2)] } : b])], /expected seq \d+ after \d+, got \d+/],
  [
    'khala.k6.budget-boundary',
    [],
    [{ serverFrame: (f) => (f.type === 'error' && f.code === 'stale_cursor' ? [{ type: 'update_batch', updates: [{ topic: f.topic, seq: f.details.requested_seq + 1, epoch: f.details.epoch, doc_key: 'x', event_type: 'run.step', payload: {}, payload_hash: '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' }], replay_complete: false, head_watermarks: { [f.topic]: f.details.head_seq } }, f] : [f]) }],
    /partial replay|expected stale_cursor/,
  ],
  // One stale topic disturbs another: the healthy topic of the same subscribe loses its replay.
  [
    'khala.k6.both-reasons-ordered',
    [],
    [
      {
        serverFrame: (f) => {
          if (f.type === 'error' && f.code === 'stale_cursor') staleSeen.add(f.topic);
          return f.type === 'update_batch' && f.updates.length && staleSeen.size ? [{ ...f, updates: f.updates.filter((u: Frame) => u.seq !== 1) }] : [f];
        },
      },
    ],
    /the healthy topic subscribed with the stale one: expected seq 1 after 0, got 2/,
  ],
  ['khala.threat.handshake-deny-codes', [], [{ acceptDenied: (reason) => reason === 'token_revoked' }], /case \d+ \(token_revoked\): upgrade answered 101, expected 401 token_revoked/],
  ['khala.threat.scope-and-ownership', [], [{ serverFrame: (f) => (f.type === 'error' && f.code === 'forbidden_topic' && f.details.reason_code === 'not_owner' ? [] : [f]) }], /no error frame for run:\S+ \(expected forbidden_topic not_owner\)/],
];

describe('khala lane: each check fails against a target that breaks its rule', () => {
  it.each(FAILING_TARGETS)('%s (%#)', async (id, faults, wsFaults, reason) => {
    const run = await fixture.runFaulty(faults, { wsFaults, lanes: ['khala'], checks: [id], target: khalaTestTarget() });
    expectCheckFails(run, id, reason);
  });

  it('khala.k9.multi-node-ledger: a second node that does not deliver live writes', async () => {
    const brokenNode = await startFaultyTarget(node2.url, [], [onBatches((b) => (b.updates.length ? [] : [b]))]);
    try {
      const run = await fixture.runFaulty([], { lanes: ['khala'], checks: ['khala.k9.multi-node-ledger'], target: khalaTestTarget({ node_urls: [brokenNode.url] }) });
      expectCheckFails(run, 'khala.k9.multi-node-ledger', /did not reach the subscriber on http:\/\/127\.0\.0\.1:\d+ within 1 s/);
    } finally {
      await brokenNode.close();
    }
  });
});
