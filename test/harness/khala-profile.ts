/**
 * The `test` profile the khala lane's boundary checks need: a reference server
 * started with small run_events budgets and retention, fast heartbeats and a low
 * publish rate, and the target spec that declares it.
 */
import type { TargetSpec } from '../../harness/target.ts';

export const KHALA_TEST_REVOKED_JTI = 'runtime-gate-test-revoked-jti';

export const KHALA_TEST_PROFILE_ENV: Record<string, string> = {
  RUNTIME_KHALA_RUN_EVENTS_RETENTION_EVENTS: '30',
  RUNTIME_KHALA_RUN_EVENTS_REPLAY_BUDGET_EVENTS: '20',
  RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '100',
  RUNTIME_KHALA_RUN_EVENTS_MAX_PAYLOAD_BYTES: '4096',
  RUNTIME_KHALA_HEARTBEAT_MS: '200',
  RUNTIME_SYNC_REVOKED_JTIS: KHALA_TEST_REVOKED_JTI,
};

export function khalaTestTarget(extra: Partial<TargetSpec> = {}): Partial<TargetSpec> {
  return { profile: 'test', khala_threat: { allowed_origin: 'https://openagents.com', revoked_jti: KHALA_TEST_REVOKED_JTI }, ...extra };
}
