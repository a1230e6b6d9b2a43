/**
 * Parity comparison throughput (SPEC §6): two generated N-event ledgers (default
 * 1,000,000 each) stream in pages through the lockstep comparator, as the read-only topic
 * replay feeds it; the candidate differs in one event out of `diffEvery`, so the diff path
 * runs too. The ledgers are generated lazily (never held in memory), already normalized;
 * with `normalize` the raw events (real-looking ids and times) also go through each side's
 * Normalizer first — the whole pipeline. Prints events/s (events of one ledger per second
 * of wall time, generation included) and the process's peak RSS.
 *
 *   npx tsx bench/parity-compare.ts [--events 1000000] [--page-size 1000] [--normalize] [--json]
 *
 * Targets (comparator): ≥ 500,000 events/s and peak RSS < 300 MB.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compareLedgers, DiffSink, type LedgerEntry } from '../harness/parity/compare-ledgers.ts';
import { Normalizer } from '../harness/parity/normalize.ts';
import { loadParityPolicy } from '../harness/parity/parity-policy.ts';

export interface ParityBenchOptions {
  /** Events per ledger (default 1,000,000). */
  events?: number;
  /** Entries per page (default 1000, like a poll page). */
  pageSize?: number;
  /** One candidate event in this many differs (default 100,000). */
  diffEvery?: number;
  /** Generate raw events and run each side's normalizer over them first (default false: the comparator alone). */
  normalize?: boolean;
}

export interface ParityBenchResult {
  events: number;
  pageSize: number;
  normalized: boolean;
  durationMs: number;
  eventsPerSecond: number;
  peakRssMb: number;
  eventsCompared: number;
  critical: number;
  warning: number;
}

const HASHES = Array.from({ length: 1024 }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));
const TYPES = ['run.step', 'run.log', 'run.tool_call', 'run.output'];

/**
 * One event as a target's poll returns it (raw: its own run id, epoch and times) or as the
 * normalizer leaves it (aliases, masked time); `variant` changes one payload field.
 */
function event(ids: { runId: string; epoch: string }, seq: number, variant: boolean, raw: boolean): Record<string, unknown> {
  return {
    topic: raw ? `run:${ids.runId}:events` : 'run:$id1:events',
    seq,
    epoch: raw ? ids.epoch : '$id2',
    doc_key: raw ? `runtime/run_summary:${ids.runId}` : 'runtime/run_summary:$id1',
    doc_version: seq,
    event_type: TYPES[seq & 3],
    payload: { i: seq, text: variant ? 'changed' : `event number ${seq}`, ok: (seq & 1) === 0, step: { n: seq % 97, tags: ['a', 'b'] } },
    payload_hash: HASHES[seq & 1023],
    published_at: raw ? new Date(1_700_000_000_000 + seq).toISOString() : '$volatile',
  };
}

async function* generatedLedger(options: { events: number; pageSize: number; diffEvery: number; candidate: boolean; normalizer: Normalizer | undefined }): AsyncGenerator<LedgerEntry[]> {
  // Each side has its own ids: aliasing must make them equal.
  const ids = { runId: `run_${createHash('md5').update(options.candidate ? 'candidate' : 'baseline').digest('hex')}`, epoch: options.candidate ? 'e0123456789ab' : 'eba9876543210' };
  const normalizer = options.normalizer;
  for (let start = 1; start <= options.events; start += options.pageSize) {
    const end = Math.min(options.events, start + options.pageSize - 1);
    const page: LedgerEntry[] = new Array(end - start + 1);
    for (let seq = start; seq <= end; seq++) {
      const value = event(ids, seq, options.candidate && seq % options.diffEvery === 0, normalizer !== undefined);
      page[seq - start] = { component: 'khala', key: 'message', value: normalizer ? normalizer.normalize(value) : value };
    }
    yield page;
  }
}

export async function runParityBench(options: ParityBenchOptions = {}): Promise<ParityBenchResult> {
  const events = options.events ?? 1_000_000;
  const pageSize = options.pageSize ?? 1000;
  const diffEvery = options.diffEvery ?? 100_000;
  const normalize = options.normalize ?? false;
  const policy = loadParityPolicy();
  const sink = new DiffSink(1000);
  const side = (candidate: boolean) => generatedLedger({ events, pageSize, diffEvery, candidate, normalizer: normalize ? new Normalizer(policy.file.normalize) : undefined });
  const started = performance.now();
  const comparison = await compareLedgers(side(false), side(true), { policy, scenario: 'bench', sink });
  const durationMs = performance.now() - started;
  return {
    events,
    pageSize,
    normalized: normalize,
    durationMs: Math.round(durationMs),
    eventsPerSecond: Math.round(events / (durationMs / 1000)),
    peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    eventsCompared: comparison.events_compared,
    critical: comparison.critical,
    warning: comparison.warning,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, 'page-size': { type: 'string', default: '1000' }, normalize: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  const result = await runParityBench({ events: Number(values.events), pageSize: Number(values['page-size']), normalize: values.normalize });
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`parity compare: ${result.events.toLocaleString('en')} events per ledger, pages of ${result.pageSize}, ${result.normalized ? 'raw events normalized per side, then compared' : 'normalized ledgers compared'}`);
    console.log(`  ${result.eventsPerSecond.toLocaleString('en')} events/s (${result.durationMs} ms), peak RSS ${result.peakRssMb} MB`);
    console.log(`  compared ${result.eventsCompared.toLocaleString('en')}, diffs: ${result.critical} critical, ${result.warning} warning (expected ${Math.floor(result.events / 100_000)} from the generator)`);
    console.log(`  targets: ≥ 500,000 events/s ${result.eventsPerSecond >= 500_000 ? 'met' : 'NOT met'}, RSS < 300 MB ${result.peakRssMb < 300 ? 'met' : 'NOT met'}`);
  }
}
