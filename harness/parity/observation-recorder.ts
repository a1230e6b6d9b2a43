/**
 * Records what one target answered during a parity scenario as a ledger of normalized
 * observations (HTTP answers, Khala frames, applied events), in the order the scenario
 * made them, so that two targets running the same scenario yield comparable ledgers.
 */
import type { LedgerEntry } from './compare-ledgers.ts';
import type { Normalizer } from './normalize.ts';

/** Policy component of an HTTP path: runs, credit, khala, sync, or http. */
export function componentOfPath(path: string): string {
  const match = /^\/internal\/v1\/([a-z]+)/.exec(path);
  const area = match?.[1];
  if (area === 'runs' || area === 'credit' || area === 'khala' || area === 'sync') return area;
  return 'http';
}

export class ObservationRecorder {
  readonly entries: LedgerEntry[] = [];
  /** HTTP answers with a 5xx status or none at all: on the baseline they void the comparison. */
  readonly serverErrors: string[] = [];

  constructor(readonly normalizer: Normalizer) {}

  /** Normalizes and appends one observation. */
  record(component: string, key: string, value: unknown): void {
    this.entries.push({ component, key, value: this.normalizer.normalize(value) });
  }

  /** An HTTP answer: the request line (decoded, ids aliased), the status and the body. */
  http(step: string, method: string, path: string, answer: { status: number; body: unknown } | { error: string }): void {
    let decoded = path;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      // a malformed escape stays as sent
    }
    const request = `${method} ${this.normalizer.normalizeText(decoded)}`;
    if ('error' in answer || answer.status >= 500) this.serverErrors.push(`${step}: ${method} ${path} → ${'error' in answer ? answer.error : answer.status}`);
    this.record(componentOfPath(path), step, { request, ...answer });
  }

  /** Appends entries recorded elsewhere (e.g. a consumer's buffer) at this point of the ledger. */
  append(entries: readonly LedgerEntry[]): void {
    for (const entry of entries) this.entries.push(entry);
  }
}
