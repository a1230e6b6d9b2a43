/**
 * Reduces what a target answered to what must be equal between two targets (SPEC §4
 * "parity"): volatile values (timestamps, durations, tokens) are replaced by a marker,
 * and generated ids are aliased `$id1`, `$id2`, ... in order of first appearance, so two
 * targets that generate different ids in the same places normalize to the same ledger.
 *
 * One Normalizer per target and comparison: aliases are per side.
 */
import type { ParityPolicyFile } from './parity-policy.ts';

/** What a volatile value becomes (the key stays, so a missing field is still a diff). */
export const VOLATILE = '$volatile';

const TEXT_CACHE_LIMIT = 50_000;

export type NormalizeConfig = ParityPolicyFile['normalize'];

export class Normalizer {
  private readonly aliases = new Map<string, string>();
  private readonly textCache = new Map<string, string>();
  private readonly volatileKeys: Set<string>;
  private readonly idKeys: Set<string>;
  private readonly idPattern: RegExp | undefined;

  constructor(config: NormalizeConfig) {
    this.volatileKeys = new Set(config.volatile_keys);
    this.idKeys = new Set(config.id_keys);
    this.idPattern = config.id_patterns.length > 0 ? new RegExp(config.id_patterns.map((p) => `(?:${p})`).join('|'), 'g') : undefined;
  }

  /** How many distinct ids have been aliased so far. */
  get aliasCount(): number {
    return this.aliases.size;
  }

  /** The alias of a generated id, allocating the next one on first sight. */
  alias(id: string): string {
    let alias = this.aliases.get(id);
    if (alias === undefined) {
      alias = `$id${this.aliases.size + 1}`;
      this.aliases.set(id, alias);
    }
    return alias;
  }

  /** A normalized copy of a JSON value; `key` is the object key it sits under, if any. */
  normalize(value: unknown, key?: string): unknown {
    if (typeof value === 'string') return this.normalizeString(value, key);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      const out = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = this.normalize(value[i]);
      return out;
    }
    const out: Record<string, unknown> = {};
    const record = value as Record<string, unknown>;
    for (const k in record) {
      if (!Object.hasOwn(record, k)) continue;
      const v = record[k];
      // Keys may be generated ids too (e.g. `topics: {"run:<id>:events": ...}`).
      out[this.cachedText(k, true)] = v !== null && v !== undefined && this.volatileKeys.has(k) ? VOLATILE : this.normalize(v, k);
    }
    return out;
  }

  /**
   * normalizeText through a bounded cache of object keys and of strings that held ids:
   * topic names and doc keys repeat on every event, and an id's alias never changes once
   * given. Other strings are scanned each time (storing unique texts would cost more).
   */
  private cachedText(text: string, isKey = false): string {
    let normalized = this.textCache.get(text);
    if (normalized === undefined) {
      normalized = this.normalizeText(text);
      if ((isKey || normalized !== text) && text.length <= 256) {
        if (this.textCache.size >= TEXT_CACHE_LIMIT) this.textCache.clear();
        this.textCache.set(text, normalized);
      }
    }
    return normalized;
  }

  /** Ids inside free text (topic names, paths): every id-pattern match is aliased. */
  normalizeText(text: string): string {
    const pattern = this.idPattern;
    if (!pattern) return text;
    pattern.lastIndex = 0;
    if (!pattern.test(text)) return text;
    pattern.lastIndex = 0;
    return text.replace(pattern, (match) => this.alias(match));
  }

  private normalizeString(value: string, key: string | undefined): string {
    if (key !== undefined && this.idKeys.has(key) && value !== '') {
      // An id key whose value embeds a known id pattern keeps its shape (e.g. "run:$id1:events").
      const text = this.cachedText(value);
      return text !== value ? text : this.alias(value);
    }
    return this.cachedText(value);
  }
}
