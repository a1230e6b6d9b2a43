/**
 * The normalizer (SPEC §4 parity): volatile values masked, generated ids aliased in
 * order of first appearance, per side, so two targets' different ids compare equal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Normalizer, VOLATILE } from '../../harness/parity/normalize.ts';
import { loadParityPolicy } from '../../harness/parity/parity-policy.ts';

const config = loadParityPolicy().file.normalize;
const runA = 'run_0123456789abcdef0123456789abcdef';
const runB = 'run_fedcba9876543210fedcba9876543210';

function created(runId: string, epoch: string, at: string) {
  return {
    run: { id: runId, thread_id: 'probe-thread', owner: 'probe', status: 'created', latest_seq: 0, created_at: at },
    topics: { [`run:${runId}:events`]: { head_seq: 0, epoch } },
    envelope_id: runId === runA ? 'cepe_0123456789abcdef01234567' : 'cepe_aaaaaaaaaaaaaaaaaaaaaaaa',
  };
}

describe('Normalizer', () => {
  it.each([
    ['a run id', { id: runA }, { id: '$id1' }],
    ['an id inside a topic name and a doc key', { topic: `run:${runA}:events`, doc_key: `runtime/run_summary:${runA}` }, { topic: 'run:$id1:events', doc_key: 'runtime/run_summary:$id1' }],
    ['an id key with a free-form value (epoch)', { epoch: 'e0123456789ab' }, { epoch: '$id1' }],
    ['CEP ids', { intent_id: 'cepi_0123456789abcdef01234567', offer_id: 'cepo_0123456789abcdef01234567' }, { intent_id: '$id1', offer_id: '$id2' }],
    ['volatile times and tokens (key kept, value masked)', { created_at: '2026-01-01T00:00:00Z', token: 'eyJ...', duration_ms: 12, exp: 'kept' }, { created_at: VOLATILE, token: VOLATILE, duration_ms: VOLATILE, exp: 'kept' }],
    ['a null volatile value stays null', { created_at: null }, { created_at: null }],
    ['ids as object keys', { topics: { [`run:${runA}:events`]: 1 } }, { topics: { 'run:$id1:events': 1 } }],
    ['a 64-hex hash is not an id', { payload_hash: 'a'.repeat(64) }, { payload_hash: 'a'.repeat(64) }],
    ['arrays and scalars', { list: [runA, 1, true, null, runA] }, { list: ['$id1', 1, true, null, '$id1'] }],
  ])('%s', (_name, given, want) => {
    expect(new Normalizer(config).normalize(given)).toEqual(want);
  });

  it('aliases in order of first appearance, so two targets with different ids normalize equal', () => {
    const a = new Normalizer(config);
    const b = new Normalizer(config);
    const left = [created(runA, 'e111111111111', '2026-01-01T00:00:00Z'), { again: runA }].map((v) => a.normalize(v));
    const right = [created(runB, 'e222222222222', '2027-05-05T05:05:05Z'), { again: runB }].map((v) => b.normalize(v));
    expect(left).toEqual(right);
    expect(left[1]).toEqual({ again: '$id1' });
  });

  it('keeps a different reuse of ids visible: the same id twice vs two different ids', () => {
    const a = new Normalizer(config).normalize({ first: runA, second: runA });
    const b = new Normalizer(config).normalize({ first: runA, second: runB });
    expect(a).not.toEqual(b);
  });

  it('normalizes free text (request paths) with the same aliases', () => {
    const n = new Normalizer(config);
    expect(n.normalize({ id: runA })).toEqual({ id: '$id1' });
    expect(n.normalizeText(`/internal/v1/runs/${runA}/events`)).toBe('/internal/v1/runs/$id1/events');
  });

  it('property: normalization is a bijection on ids — renaming every id consistently never changes the result', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{32}$/);
    fc.assert(
      fc.property(fc.uniqueArray(hex, { minLength: 1, maxLength: 6 }), fc.uniqueArray(hex, { minLength: 6, maxLength: 6 }), fc.array(fc.nat(5), { maxLength: 20 }), (ids, renamed, picks) => {
        const doc = (names: string[]) => picks.map((p, i) => ({ seq: i, run_id: `run_${names[p % ids.length]}`, topic: `run:run_${names[p % ids.length]}:events` }));
        expect(new Normalizer(config).normalize(doc(ids))).toEqual(new Normalizer(config).normalize(doc(renamed)));
      }),
    );
  });
});
