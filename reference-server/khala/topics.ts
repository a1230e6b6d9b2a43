/**
 * Khala topic naming and classes (SPEC §2.2): `run:{run_id}:events` → run_events,
 * `worker:{worker_id}:lifecycle` → worker_lifecycle, `runtime.codex_worker_events`
 * → codex_worker_events, anything else → fallback.
 */
import type { QosTier, TopicClass } from '../../contracts/generated/khala-frames.ts';

/** PostgreSQL NOTIFY channel carrying `<topic>\t<seq>` after each committed append (K9). */
export const KHALA_NOTIFY_CHANNEL = 'runtime_khala_events';

export const QOS_TIER: Record<TopicClass, QosTier> = {
  run_events: 'warm',
  worker_lifecycle: 'warm',
  codex_worker_events: 'hot',
  fallback: 'cold',
};

export function runTopic(runId: string): string {
  return `run:${runId}:events`;
}

/** Document key of a run's summary projection (the K6 snapshot's doc_key). */
export function runDocKey(runId: string): string {
  return `runtime/run_summary:${runId}`;
}

export function topicClassOf(topic: string): TopicClass {
  if (/^run:[^:]+:events$/.test(topic)) return 'run_events';
  if (/^worker:[^:]+:lifecycle$/.test(topic)) return 'worker_lifecycle';
  if (topic === 'runtime.codex_worker_events') return 'codex_worker_events';
  return 'fallback';
}
