/**
 * Per-topic authorization of a sync token (SPEC §2.2): the scope of the topic's
 * class, then ownership. Denials are `forbidden_topic` (WS) or 403 (HTTP poll)
 * with reason code `missing_scope` or `not_owner`.
 */
import type { Pool } from 'pg';
import type { SyncTokenClaims, TopicClass } from '../../contracts/generated/khala-frames.ts';
import { topicClassOf } from './topics.ts';

export const CLASS_SCOPE: Record<TopicClass, string> = {
  run_events: 'runtime.run_events',
  worker_lifecycle: 'runtime.worker_lifecycle',
  codex_worker_events: 'runtime.codex_worker_events',
  fallback: 'runtime.read',
};

export type TopicAccess = { ok: true } | { ok: false; reason: 'missing_scope' | 'not_owner'; message: string };

/**
 * Checks scope then ownership. A run topic is owned by the run's owner (x-oa-user-id
 * at creation). The reference server keeps no worker registry: a worker topic is
 * owned by the principal whose `sub` equals the worker id.
 */
export async function checkTopicAccess(pool: Pool, claims: SyncTokenClaims, topic: string): Promise<TopicAccess> {
  const topicClass = topicClassOf(topic);
  const scope = CLASS_SCOPE[topicClass];
  if (!claims.scopes.includes(scope)) return { ok: false, reason: 'missing_scope', message: `topic ${topic} needs scope ${scope}` };
  if (topicClass === 'run_events') {
    const runId = /^run:([^:]+):events$/.exec(topic)![1]!;
    const { rows } = await pool.query<{ owner: string }>('SELECT owner FROM runtime.runs WHERE id = $1', [runId]);
    if (rows[0]?.owner !== claims.sub) return { ok: false, reason: 'not_owner', message: `${claims.sub} does not own run ${runId}` };
  } else if (topicClass === 'worker_lifecycle') {
    const workerId = /^worker:([^:]+):lifecycle$/.exec(topic)![1]!;
    if (workerId !== claims.sub) return { ok: false, reason: 'not_owner', message: `${claims.sub} does not own worker ${workerId}` };
  }
  return { ok: true };
}
