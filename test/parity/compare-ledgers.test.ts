/**
 * The streaming comparator: entries compared in lockstep (single entries or pages,
 * sync or async), diffs at JSON-pointer paths classified by the policy, missing and
 * extra observations, capped storage with complete counts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareLedgers, DiffSink, diffValues, jsonEqual, type LedgerEntry } from '../../harness/parity/compare-ledgers.ts';
import { loadParityPolicy } from '../../harness/parity/parity-policy.ts';

const policy = loadParityPolicy();

const entry = (value: unknown, key = 'message', component = 'khala'): LedgerEntry => ({ component, key, value });

async function* pages(entries: LedgerEntry[], size: number): AsyncGenerator<LedgerEntry[]> {
  for (let i = 0; i < entries.length; i += size) yield entries.slice(i, i + size);
}

async function* oneByOne(entries: LedgerEntry[]): AsyncGenerator<LedgerEntry> {
  for (const e of entries) yield e;
}

function compare(baseline: Parameters<typeof compareLedgers>[0], candidate: Parameters<typeof compareLedgers>[1], maxStored = 1000) {
  const sink = new DiffSink(maxStored);
  return compareLedgers(baseline, candidate, { policy, scenario: 's', sink }).then((comparison) => ({ comparison, sink }));
}

/** A generated ledger: events of one topic with small payloads. */
const ledgerArb = fc.array(
  fc.record({ seq: fc.nat(), event_type: fc.constantFrom('run.step', 'run.log'), payload: fc.jsonValue({ maxDepth: 2 }) }).map((v) => entry(v)),
  { maxLength: 40 },
);

describe('jsonEqual / diffValues', () => {
  it.each([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, false],
    [[1, 2], [2, 1], false],
    [{}, [], false],
    [null, {}, false],
    ['1', 1, false],
  ])('jsonEqual(%j, %j) is %s', (a, b, want) => {
    expect(jsonEqual(a, b)).toBe(want);
  });

  it('emits one diff per differing leaf with a JSON pointer and its kind', () => {
    const seen: [string, string][] = [];
    diffValues({ a: 1, b: { 'x/y': 2, gone: true }, list: [1, 2, 3] }, { a: 2, b: { 'x/y': 2, extra: 1 }, list: [1, 2] }, '', (path, change) => {
      seen.push([path, change]);
      return true;
    });
    expect(seen).toEqual([
      ['/a', 'changed'],
      ['/b/extra', 'added'],
      ['/b/gone', 'removed'],
      ['/list/2', 'removed'],
    ]);
  });

  it('property: jsonEqual agrees with deep equality of canonical JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(jsonEqual(a, b)).toBe(JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b)));
        expect(jsonEqual(a, structuredClone(a))).toBe(true);
      }),
    );
  });
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  return Object.is(value, -0) ? 0 : value;
}

describe('compareLedgers', () => {
  it('equal ledgers: every entry compared, no diffs, whatever the paging on either side', async () => {
    await fc.assert(
      fc.asyncProperty(ledgerArb, fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), async (ledger, sizeA, sizeB) => {
        const { comparison, sink } = await compare(pages(ledger, sizeA), pages(structuredClone(ledger), sizeB));
        expect(comparison).toMatchObject({ events_compared: ledger.length, baseline_events: ledger.length, candidate_events: ledger.length, critical: 0, warning: 0 });
        expect(sink.stored).toEqual([]);
      }),
    );
  });

  it('property: one changed event yields diffs at that index only; a dropped event is critical', async () => {
    await fc.assert(
      fc.asyncProperty(
        ledgerArb.filter((l) => l.length > 0),
        fc.nat(),
        async (ledger, pick) => {
          const index = pick % ledger.length;
          const changed = structuredClone(ledger);
          (changed[index]!.value as { seq: number }).seq += 1;
          const { comparison, sink } = await compare(oneByOne(ledger), changed);
          expect(comparison.critical).toBe(1);
          expect(sink.stored).toEqual([expect.objectContaining({ index, path: '/seq', change: 'changed', severity: 'critical' })]);

          const dropped = ledger.filter((_, i) => i !== ledger.length - 1);
          const missing = await compare(ledger, dropped);
          expect(missing.comparison).toMatchObject({ candidate_events: ledger.length - 1, critical: 1 });
          expect(missing.sink.stored[0]).toMatchObject({ index: ledger.length - 1, path: '', change: 'removed', severity: 'critical' });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('classifies by the policy: a reworded message is a warning, an added field a warning, a changed status critical', async () => {
    const base = [entry({ status: 409, body: { error: { code: 'conflict', message: 'a' } } }, 'append', 'runs')];
    const cand = [entry({ status: 409, body: { error: { code: 'conflict', message: 'b' }, extra: 1 } }, 'append', 'runs')];
    const { comparison, sink } = await compare(base, cand);
    expect(comparison).toMatchObject({ critical: 0, warning: 2 });
    expect(sink.stored.map((d) => [d.path, d.severity])).toEqual([
      ['/body/error/message', 'warning'],
      ['/body/extra', 'warning'],
    ]);
    const status = await compare(base, [entry({ ...(base[0]!.value as object), status: 200 }, 'append', 'runs')]);
    expect(status.sink.stored).toEqual([expect.objectContaining({ path: '/status', severity: 'critical', baseline: 409, candidate: 200 })]);
  });

  it('an entry of another kind at the same position is one critical diff at path ""', async () => {
    const { sink } = await compare([entry({ seq: 1 }, 'ws: update')], [entry({ outcome: 'incomplete' }, 'ws: end')]);
    expect(sink.stored).toEqual([expect.objectContaining({ path: '', severity: 'critical', message: 's: #0: expected ws: update, got ws: end' })]);
  });

  it('stores at most maxStored diffs but counts all of them', async () => {
    const base = Array.from({ length: 50 }, (_, seq) => entry({ seq }));
    const cand = Array.from({ length: 50 }, (_, seq) => entry({ seq: seq + 1000 }));
    const { comparison, sink } = await compare(base, [...cand, entry({ seq: -1 })], 10);
    expect(comparison).toMatchObject({ critical: 51, events_compared: 50, candidate_events: 51 });
    expect(sink.stored).toHaveLength(10);
    expect(sink.omitted).toBe(41);
  });

  it('reads lazily: a long generated ledger streams without being held', async () => {
    let live = 0;
    let peak = 0;
    async function* generated(n: number): AsyncGenerator<LedgerEntry[]> {
      for (let i = 0; i < n; i += 100) {
        live += 1;
        peak = Math.max(peak, live);
        yield Array.from({ length: 100 }, (_, k) => entry({ seq: i + k }));
        live -= 1;
      }
    }
    const { comparison } = await compare(generated(50_000), generated(50_000));
    expect(comparison.events_compared).toBe(50_000);
    expect(peak).toBeLessThanOrEqual(2);
  });
});
