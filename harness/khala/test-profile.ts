/**
 * The reference server's Khala `test` profile: run_events budgets and retention small
 * enough that every K6 boundary is reachable within a few hundred events, fast
 * heartbeats and a publish rate a bounded burst can exceed. A target started with
 * these settings declares `profile: "test"`; the boundary checks read the actual
 * values from /internal/v1/khala/fanout/metrics, never from here.
 */
export const KHALA_TEST_PROFILE_ENV: Readonly<Record<string, string>> = {
  RUNTIME_KHALA_RUN_EVENTS_RETENTION_EVENTS: '30',
  RUNTIME_KHALA_RUN_EVENTS_REPLAY_BUDGET_EVENTS: '20',
  RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '100',
  RUNTIME_KHALA_RUN_EVENTS_MAX_PAYLOAD_BYTES: '4096',
  RUNTIME_KHALA_HEARTBEAT_MS: '200',
};
