/**
 * How a K2 consumer reads one topic's delivered stream, as a small pure module the
 * khala lane judges every delivered stream with: `last_applied` starts at the resume
 * cursor k (or `head_seq` of `subscribed` for a live-only topic); an arrival with
 * `seq <= last_applied` is discarded as a duplicate; one ahead of order is buffered
 * until its predecessors arrive; a gap that never fills is what a check fails on,
 * named precisely ("seq 7 never arrived (applied 1…6, then buffered 8, 9)").
 *
 * Duplicates and reordering are what K2 allows a transport to do, so they are only
 * counted, never failed on here.
 *
 * @see contracts/KHALA_ORDERING.md#k2
 */

export interface SeqArrival {
  seq: number;
}

/** What a K2 consumer did with one arrival. */
export type K2Outcome = 'applied' | 'duplicate' | 'buffered';

export class K2Reader<T extends SeqArrival = SeqArrival> {
  /** The updates applied, in seq order (start+1, start+2, …). */
  readonly applied: T[] = [];
  /** Arrivals discarded because they were applied (or buffered) already. */
  duplicates = 0;
  /** Arrivals that came ahead of order and were buffered. */
  reordered = 0;
  arrivals = 0;
  private last: number;
  private readonly buffer = new Map<number, T>();

  /** `start`: the resume cursor k, or `head_seq` of `subscribed` for a live-only topic. */
  constructor(readonly start = 0) {
    this.last = start;
  }

  get lastApplied(): number {
    return this.last;
  }

  feed(arrival: T): K2Outcome {
    this.arrivals += 1;
    if (arrival.seq <= this.last || this.buffer.has(arrival.seq)) {
      this.duplicates += 1;
      return 'duplicate';
    }
    if (arrival.seq > this.last + 1) {
      this.reordered += 1;
      this.buffer.set(arrival.seq, arrival);
      return 'buffered';
    }
    this.apply(arrival);
    for (let next = this.buffer.get(this.last + 1); next; next = this.buffer.get(this.last + 1)) {
      this.buffer.delete(next.seq);
      this.apply(next);
    }
    return 'applied';
  }

  feedAll(arrivals: Iterable<T>): this {
    for (const arrival of arrivals) this.feed(arrival);
    return this;
  }

  appliedSeqs(): number[] {
    return this.applied.map((a) => a.seq);
  }

  /** Seqs waiting for a predecessor, ascending. */
  bufferedSeqs(): number[] {
    return [...this.buffer.keys()].sort((a, b) => a - b);
  }

  /** Seqs up to `final` that neither were applied nor wait in the buffer (the holes), ascending. */
  missing(final: number): number[] {
    const holes: number[] = [];
    for (let seq = this.last + 1; seq <= final && holes.length < 10_000; seq++) if (!this.buffer.has(seq)) holes.push(seq);
    return holes;
  }

  /** Applied or buffered seqs above `final` (a correct target has nothing there). */
  beyond(final: number): number[] {
    return [...this.applied.map((a) => a.seq), ...this.bufferedSeqs()].filter((seq) => seq > final);
  }

  /**
   * Why the stream read as a K2 consumer is not exactly start+1 … final, or undefined
   * when it is. The gap comes first and starts with "expected seq m after m−1, got …".
   */
  shortfall(final: number): string | undefined {
    const buffered = this.bufferedSeqs();
    if (this.last < final) {
      const holes = this.missing(final);
      const first = holes[0] ?? this.last + 1;
      const next = buffered.find((seq) => seq > first);
      const got = next === undefined ? 'got nothing after it' : `got ${next} (gap of ${next - first})`;
      const what = holes.length === 1 ? `seq ${first} never arrived` : `seqs ${formatSeqs(holes)} never arrived`;
      return `expected seq ${first} after ${first - 1}, ${got}: ${what} (${this.describe()})`;
    }
    const over = this.beyond(final);
    if (over.length > 0) return `${over.length === 1 ? `seq ${over[0]} is` : `seqs ${formatSeqs(over)} are`} beyond the final seq ${final} (${this.describe()})`;
    return undefined;
  }

  /** "applied 1…6, then buffered 8, 9": what was applied after the start, and what waits. */
  describe(): string {
    const applied = this.applied.length === 0 ? `applied nothing after ${this.start}` : `applied ${formatSeqs(this.appliedSeqs())}`;
    const buffered = this.bufferedSeqs();
    return buffered.length === 0 ? `${applied}, nothing buffered` : `${applied}, then buffered ${formatSeqs(buffered)}`;
  }

  /** "3 duplicates discarded, 2 arrivals buffered" (empty when the stream arrived exactly in order). */
  faultSummary(): string {
    const parts = [...(this.duplicates ? [`${this.duplicates} duplicate${this.duplicates === 1 ? '' : 's'} discarded`] : []), ...(this.reordered ? [`${this.reordered} arrival${this.reordered === 1 ? '' : 's'} ahead of order buffered`] : [])];
    return parts.join(', ');
  }

  private apply(arrival: T): void {
    this.last = arrival.seq;
    this.applied.push(arrival);
  }
}

/** Ascending seqs as ranges: [1,2,3,5,8,9] → "1…3, 5, 8, 9" (runs of three or more become a…b; long lists are cut). */
export function formatSeqs(seqs: readonly number[], maxParts = 8): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}…${sorted[j]}`);
    else for (let n = i; n <= j; n++) parts.push(String(sorted[n]));
    i = j + 1;
  }
  return parts.length > maxParts ? `${parts.slice(0, maxParts).join(', ')}, … (${sorted.length} in all)` : parts.join(', ');
}
