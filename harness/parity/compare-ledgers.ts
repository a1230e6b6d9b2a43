/**
 * The streaming parity comparator (SPEC §4 "parity", §6): two async iterables of
 * normalized ledger entries are read in lockstep, entry i against entry i, so memory stays
 * constant in the number of events (sources may yield single entries or pages of them).
 * Equal entries cost one structural equality walk and no allocation; only unequal entries
 * are taken apart into path-level diffs, classified by the policy. Every diff is counted;
 * only the first `maxStoredDiffs` (across comparisons sharing a sink) are kept.
 */
import type { ChangeKind, ParityPolicy, Severity } from './parity-policy.ts';

/** One normalized observation: an HTTP answer, a Khala frame, an applied event. */
export interface LedgerEntry {
  /** Policy component: runs, credit, khala, sync, scenario, ... */
  component: string;
  /** What step produced it, e.g. `POST /internal/v1/runs` or `ws update`; both sides must agree. */
  key: string;
  value: unknown;
}

/** A source of entries, one at a time or in pages. */
export type LedgerSource = AsyncIterable<LedgerEntry | readonly LedgerEntry[]> | Iterable<LedgerEntry>;

export interface ParityDiff {
  severity: Exclude<Severity, 'ignore'>;
  scenario: string;
  component: string;
  /** The observation's step key (the baseline's when they differ). */
  key: string;
  /** Index of the observation in its ledger (0-based). */
  index: number;
  /** JSON pointer inside the observation; "" for the observation itself. */
  path: string;
  change: ChangeKind;
  baseline: unknown;
  candidate: unknown;
  message: string;
}

export interface ComparisonCounts {
  critical: number;
  warning: number;
  ignored: number;
}

export interface Comparison extends ComparisonCounts {
  scenario: string;
  topic?: string;
  /** Entries present on both sides and compared. */
  events_compared: number;
  baseline_events: number;
  candidate_events: number;
}

/** Shared, capped store of diffs across the comparisons of one parity run. */
export class DiffSink {
  readonly stored: ParityDiff[] = [];
  readonly totals: ComparisonCounts = { critical: 0, warning: 0, ignored: 0 };
  constructor(readonly maxStored = 1000) {}

  get omitted(): number {
    return this.totals.critical + this.totals.warning - this.stored.length;
  }

  add(diff: ParityDiff): void {
    this.totals[diff.severity] += 1;
    if (this.stored.length < this.maxStored) this.stored.push(diff);
  }
}

export interface CompareOptions {
  policy: ParityPolicy;
  scenario: string;
  topic?: string;
  sink: DiffSink;
}

/** Values in a stored diff are cut to this many characters of JSON. */
const VALUE_PREVIEW = 300;

function preview(value: unknown): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > VALUE_PREVIEW ? `${value.slice(0, VALUE_PREVIEW)}…` : value;
  const json = JSON.stringify(value);
  return json.length > VALUE_PREVIEW ? `${json.slice(0, VALUE_PREVIEW)}…` : value;
}

function shortJson(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 80)}…` : json;
}

/** Structural equality of JSON values without allocation (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let count = 0;
  for (const key in ra) {
    if (!Object.hasOwn(ra, key)) continue;
    count++;
    if (!Object.hasOwn(rb, key) || !jsonEqual(ra[key], rb[key])) return false;
  }
  for (const key in rb) if (Object.hasOwn(rb, key)) count--;
  return count === 0;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

type Emit = (path: string, change: ChangeKind, baseline: unknown, candidate: unknown) => boolean;

/** Walks two unequal values and emits one diff per differing leaf; stops when emit returns false. */
export function diffValues(a: unknown, b: unknown, path: string, emit: Emit): boolean {
  if (jsonEqual(a, b)) return true;
  const aObject = typeof a === 'object' && a !== null;
  const bObject = typeof b === 'object' && b !== null;
  if (!aObject || !bObject || Array.isArray(a) !== Array.isArray(b)) return emit(path, 'changed', a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const p = `${path}/${i}`;
      if (i >= b.length) {
        if (!emit(p, 'removed', a[i], undefined)) return false;
      } else if (i >= a.length) {
        if (!emit(p, 'added', undefined, b[i])) return false;
      } else if (!diffValues(a[i], b[i], p, emit)) return false;
    }
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
  for (const key of keys) {
    const p = `${path}/${escapePointer(key)}`;
    const inA = Object.hasOwn(ra, key);
    const inB = Object.hasOwn(rb, key);
    if (inA && !inB) {
      if (!emit(p, 'removed', ra[key], undefined)) return false;
    } else if (!inA && inB) {
      if (!emit(p, 'added', undefined, rb[key])) return false;
    } else if (!diffValues(ra[key], rb[key], p, emit)) return false;
  }
  return true;
}

/** Reads entries one at a time from a source that may yield pages. */
class EntryReader {
  private readonly iterator: AsyncIterator<LedgerEntry | readonly LedgerEntry[]> | Iterator<LedgerEntry>;
  private page: readonly LedgerEntry[] = [];
  private offset = 0;
  done = false;
  count = 0;

  constructor(source: LedgerSource) {
    this.iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<LedgerEntry>)[Symbol.iterator]();
  }

  /** True when an entry is buffered (no await needed). */
  get ready(): boolean {
    return this.offset < this.page.length;
  }

  /** Pulls until an entry is buffered or the source ends. */
  async fill(): Promise<void> {
    while (!this.done && this.offset >= this.page.length) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const value = next.value;
      this.page = Array.isArray(value) ? (value as readonly LedgerEntry[]) : [value as LedgerEntry];
      this.offset = 0;
    }
  }

  take(): LedgerEntry {
    this.count++;
    return this.page[this.offset++]!;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/**
 * Compares two ledgers in lockstep. Entry i of the baseline is compared with entry i of
 * the candidate: a different key (another step or frame kind) is one diff at path "",
 * equal keys are compared field by field; the longer ledger's surplus entries are each one
 * diff at path "" (missing or extra observations).
 */
export async function compareLedgers(baseline: LedgerSource, candidate: LedgerSource, options: CompareOptions): Promise<Comparison> {
  const { policy, scenario, sink } = options;
  const counts: ComparisonCounts = { critical: 0, warning: 0, ignored: 0 };
  let compared = 0;
  const a = new EntryReader(baseline);
  const b = new EntryReader(candidate);

  const record = (component: string, key: string, index: number, path: string, change: ChangeKind, base: unknown, cand: unknown, message: string) => {
    const severity = policy.classify(component, path, change);
    if (severity === 'ignore') {
      counts.ignored++;
      sink.totals.ignored++;
      return;
    }
    counts[severity]++;
    sink.add({ severity, scenario, component, key, index, path, change, baseline: preview(base), candidate: preview(cand), message });
  };

  try {
    for (let index = 0; ; index++) {
      if (!a.ready || !b.ready) {
        if (!a.ready && !b.ready) await Promise.all([a.fill(), b.fill()]);
        else if (!a.ready) await a.fill();
        else await b.fill();
      }
      const hasA = a.ready;
      const hasB = b.ready;
      if (!hasA && !hasB) break;
      if (!hasB) {
        const ea = a.take();
        record(ea.component, ea.key, index, '', 'removed', ea.value, undefined, `${scenario}: ${ea.key} #${index}: the candidate has no such observation (ledger ended after ${b.count})`);
        continue;
      }
      if (!hasA) {
        const eb = b.take();
        record(eb.component, eb.key, index, '', 'added', undefined, eb.value, `${scenario}: ${eb.key} #${index}: extra observation in the candidate (the baseline ended after ${a.count})`);
        continue;
      }
      const ea = a.take();
      const eb = b.take();
      if (ea.key !== eb.key || ea.component !== eb.component) {
        record(ea.component, ea.key, index, '', 'changed', ea.value, eb.value, `${scenario}: #${index}: expected ${ea.key}, got ${eb.key}`);
        continue;
      }
      compared++;
      if (jsonEqual(ea.value, eb.value)) continue;
      diffValues(ea.value, eb.value, '', (path, change, base, cand) => {
        const what = change === 'added' ? `unexpected ${shortJson(cand)}` : change === 'removed' ? `missing (baseline has ${shortJson(base)})` : `expected ${shortJson(base)}, got ${shortJson(cand)}`;
        record(ea.component, ea.key, index, path, change, base, cand, `${scenario}: ${ea.key} #${index}: ${path || '/'} ${what}`);
        return true;
      });
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  return {
    scenario,
    ...(options.topic !== undefined ? { topic: options.topic } : {}),
    events_compared: compared,
    baseline_events: a.count,
    candidate_events: b.count,
    ...counts,
  };
}
