/**
 * The K2 reading the khala lane judges delivered streams with
 * (harness/khala/k2-reader.ts, contracts/KHALA_ORDERING.md#k2).
 */
import { describe, expect, it } from 'vitest';
import { formatSeqs, K2Reader } from '../../harness/khala/k2-reader.ts';

const read = (start: number, seqs: number[]) => new K2Reader(start).feedAll(seqs.map((seq) => ({ seq })));

describe('K2Reader', () => {
  it('applies an in-order stream exactly once', () => {
    const reader = read(0, [1, 2, 3]);
    expect(reader.appliedSeqs()).toEqual([1, 2, 3]);
    expect(reader.lastApplied).toBe(3);
    expect(reader.shortfall(3)).toBeUndefined();
    expect(reader.faultSummary()).toBe('');
  });

  it('discards duplicates, also of seqs at or below the resume cursor and of buffered seqs', () => {
    const reader = read(40, [40, 41, 41, 43, 43, 42, 41]);
    expect(reader.appliedSeqs()).toEqual([41, 42, 43]);
    expect(reader.duplicates).toBe(4);
    expect(reader.reordered).toBe(1);
    expect(reader.shortfall(43)).toBeUndefined();
    expect(reader.faultSummary()).toBe('4 duplicates discarded, 1 arrival ahead of order buffered');
  });

  it('buffers reordered arrivals and applies them once the gap fills (KHALA_ORDERING.md K2 example)', () => {
    const reader = new K2Reader(42);
    expect(reader.feed({ seq: 44 })).toBe('buffered');
    expect(reader.feed({ seq: 43 })).toBe('applied');
    expect(reader.lastApplied).toBe(44);
    expect(reader.feed({ seq: 43 })).toBe('duplicate');
    expect(reader.feed({ seq: 46 })).toBe('buffered');
    expect(reader.bufferedSeqs()).toEqual([46]);
    expect(reader.missing(46)).toEqual([45]);
    expect(reader.feed({ seq: 45 })).toBe('applied');
    expect(reader.appliedSeqs()).toEqual([43, 44, 45, 46]);
    expect(reader.shortfall(46)).toBeUndefined();
  });

  it('names a gap that never fills, with what was applied and what waits', () => {
    const reader = read(0, [1, 2, 3, 4, 5, 6, 8, 9]);
    expect(reader.shortfall(9)).toBe('expected seq 7 after 6, got 8 (gap of 1): seq 7 never arrived (applied 1…6, then buffered 8, 9)');
    expect(reader.missing(9)).toEqual([7]);
  });

  it('names several holes and a stream that stopped early', () => {
    expect(read(0, [1, 3, 6]).shortfall(6)).toBe('expected seq 2 after 1, got 3 (gap of 1): seqs 2, 4, 5 never arrived (applied 1, then buffered 3, 6)');
    expect(read(10, [11, 12]).shortfall(20)).toBe('expected seq 13 after 12, got nothing after it: seqs 13…20 never arrived (applied 11, 12, nothing buffered)');
    expect(read(5, []).shortfall(6)).toBe('expected seq 6 after 5, got nothing after it: seq 6 never arrived (applied nothing after 5, nothing buffered)');
    expect(read(0, [2]).shortfall(2)).toBe('expected seq 1 after 0, got 2 (gap of 1): seq 1 never arrived (applied nothing after 0, then buffered 2)');
  });

  it('names seqs beyond the final one, applied or buffered', () => {
    expect(read(0, [1, 2, 3, 4]).shortfall(3)).toBe('seq 4 is beyond the final seq 3 (applied 1…4, nothing buffered)');
    expect(read(0, [1, 2, 3, 7, 9]).shortfall(3)).toBe('seqs 7, 9 are beyond the final seq 3 (applied 1…3, then buffered 7, 9)');
    expect(read(0, [1, 2, 3, 7]).beyond(3)).toEqual([7]);
  });

  it('keeps the first of two arrivals of one seq (a K3 concern, not K2)', () => {
    const reader = new K2Reader<{ seq: number; payload_hash: string }>(0);
    reader.feedAll([
      { seq: 2, payload_hash: 'a' },
      { seq: 2, payload_hash: 'b' },
      { seq: 1, payload_hash: 'c' },
    ]);
    expect(reader.applied).toEqual([
      { seq: 1, payload_hash: 'c' },
      { seq: 2, payload_hash: 'a' },
    ]);
  });
});

describe('formatSeqs', () => {
  it('writes runs of three or more as ranges and cuts long lists', () => {
    expect(formatSeqs([1, 2, 3, 5, 8, 9])).toBe('1…3, 5, 8, 9');
    expect(formatSeqs([9, 8])).toBe('8, 9');
    expect(formatSeqs([])).toBe('');
    expect(formatSeqs([1, 3, 5, 7, 9, 11, 13, 15, 17, 19])).toBe('1, 3, 5, 7, 9, 11, 13, 15, … (10 in all)');
  });
});
