/**
 * Read-only parity (SPEC §4 "parity"): existing topics are replayed from seq 0 on both
 * targets over the Khala HTTP poll, page by page, and compared as they stream — constant
 * memory however long the topic is. Nothing is written.
 */
import type { CheckContext } from '../check-runner.ts';
import { syncToken } from '../lanes/khala-support.ts';
import { TargetRequestError } from '../target-http.ts';
import type { LedgerEntry } from './compare-ledgers.ts';
import type { Normalizer } from './normalize.ts';

/** A topic to replay, as configured in a target's `parity_topics`. */
export type ParityTopic = string | { topic: string; owner?: string };

export function topicName(entry: ParityTopic): string {
  return typeof entry === 'string' ? entry : entry.topic;
}

/**
 * The token subject that may read a topic: the configured owner, the run's owner for a
 * run topic (GET /internal/v1/runs/{id}), else the probe id (runtime.read covers fallback topics).
 */
export async function topicReader(ctx: CheckContext, entry: ParityTopic): Promise<string> {
  if (typeof entry === 'object' && entry.owner) return entry.owner;
  const runId = /^run:([^:]+):events$/.exec(topicName(entry))?.[1];
  if (runId) {
    try {
      const r = await ctx.http.request({ method: 'GET', path: `/internal/v1/runs/${encodeURIComponent(runId)}` });
      if (r.status === 200 && typeof r.json?.run?.owner === 'string') return r.json.run.owner;
    } catch (error) {
      if (!(error instanceof TargetRequestError)) throw error;
    }
  }
  return ctx.probeId;
}

/**
 * The topic's ledger from seq 0, one page per poll (normalized entries keyed `message`).
 * A 410 from seq 0 (history pruned) is one observation, after which the replay continues
 * from the oldest available seq; any other failure is the last observation.
 */
export async function* pollTopicLedger(ctx: CheckContext, entry: ParityTopic, normalizer: Normalizer, pageSize = 1000): AsyncGenerator<LedgerEntry[]> {
  const topic = topicName(entry);
  const token = await syncToken(ctx, await topicReader(ctx, entry));
  let cursor = 0;
  let restarted = false;
  for (let page = 0; ; page++) {
    const path = `/internal/v1/khala/topics/${encodeURIComponent(topic)}/messages?after_seq=${cursor}&limit=${pageSize}`;
    let r: Awaited<ReturnType<CheckContext['http']['request']>>;
    try {
      r = await ctx.http.request({ method: 'GET', path, auth: { bearer: token } });
    } catch (error) {
      if (!(error instanceof TargetRequestError)) throw error;
      yield [{ component: 'khala', key: 'poll', value: { error: 'no_answer', after_seq: cursor } }];
      return;
    }
    const oldest = r.json?.error?.details?.oldest_available_seq;
    if (r.status === 410 && !restarted && typeof oldest === 'number') {
      restarted = true;
      yield [{ component: 'khala', key: 'poll stale from 0', value: normalizer.normalize({ status: 410, code: r.json.error.code, oldest_available_seq: oldest }) }];
      cursor = Math.max(0, oldest - 1);
      continue;
    }
    if (r.status !== 200 || !Array.isArray(r.json?.messages)) {
      yield [{ component: 'khala', key: 'poll', value: normalizer.normalize({ status: r.status, body: r.json ?? r.text, after_seq: cursor }) }];
      return;
    }
    const messages = r.json.messages as unknown[];
    if (messages.length > 0) yield messages.map((message) => ({ component: 'khala', key: 'message', value: normalizer.normalize(message) }));
    if (r.json.replay_complete || messages.length === 0 || typeof r.json.next_cursor !== 'number' || r.json.next_cursor <= cursor) return;
    cursor = r.json.next_cursor;
    if (page % 50 === 49) ctx.log(`${topic}: replayed up to seq ${cursor}`);
  }
}
