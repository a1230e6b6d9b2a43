// generated from contracts/runtime-env.schema.json by `npm run generate`; do not edit.
/* eslint-disable */
/**
 * The process environment of the runtime service (seeds 000 and 002). Every value is a string as the process sees it. `default` applies in both profiles; `x-dev-default` only in dev (prod has no default for those: they are in `x-prod-required`). `x-secret` values never appear in output; `x-ownership` is `environment` (stable per environment, part of config_fingerprint when not secret) or `deploy` (chosen per deploy). Unknown RUNTIME_* variables are errors; RUNTIME_GATE_* belong to the harness.
 */
export interface RuntimeEnv {
  /**
   * Profile. When unset, `serve` runs as dev and logs that it did; prod is never inferred.
   */
  RUNTIME_ENV?: "dev" | "prod";
  /**
   * host:port the HTTP/WS server listens on.
   */
  RUNTIME_BIND_ADDR?: string;
  /**
   * Service name reported by health endpoints.
   */
  RUNTIME_SERVICE_NAME?: string;
  /**
   * Git sha of the running build (dev: `dev`; prod: 7-40 lowercase hex).
   */
  RUNTIME_BUILD_SHA?: string;
  /**
   * Stable identifier of this runtime instance (never shared between dev and prod).
   */
  RUNTIME_INSTANCE_ID?: string;
  /**
   * rust_active accepts writes; shadow_only validates and records them in a shadow journal (202, no seq); read_only answers 503 write_path_frozen.
   */
  RUNTIME_AUTHORITY_WRITE_MODE?: "rust_active" | "shadow_only" | "read_only";
  /**
   * PostgreSQL connection string. In dev, unset means the embedded database under RUNTIME_DATA_DIR.
   */
  DATABASE_URL?: string;
  /**
   * Persistence directory (embedded database, local state).
   */
  RUNTIME_DATA_DIR?: string;
  /**
   * Apply pending migrations before listening (`runtime-gate migrate` is the normal path).
   */
  RUNTIME_MIGRATE_ON_START?: "true" | "false";
  /**
   * Bearer token for /internal/v1/* (compared in constant time).
   */
  RUNTIME_INTERNAL_TOKEN?: string;
  /**
   * HS256 key (UTF-8 bytes) for Khala sync tokens.
   */
  RUNTIME_SYNC_TOKEN_SIGNING_KEY?: string;
  /**
   * Expected `iss` of sync tokens.
   */
  RUNTIME_SYNC_TOKEN_ISSUER?: string;
  /**
   * Expected `aud` of sync tokens.
   */
  RUNTIME_SYNC_TOKEN_AUDIENCE?: string;
  /**
   * Comma-separated revoked token ids.
   */
  RUNTIME_SYNC_REVOKED_JTIS?: string;
  /**
   * Reject sync tokens without `jti`.
   */
  RUNTIME_SYNC_TOKEN_REQUIRE_JTI?: "true" | "false";
  /**
   * Maximum age of a sync token `iat` (token_too_old beyond it).
   */
  RUNTIME_SYNC_TOKEN_MAX_AGE_SECONDS?: string;
  /**
   * Check the WebSocket Origin header against the allowlist (a missing Origin is allowed).
   */
  RUNTIME_KHALA_ENFORCE_ORIGIN?: "true" | "false";
  /**
   * Comma-separated allowed origins (normalized: lowercase, no trailing slash).
   */
  RUNTIME_KHALA_ALLOWED_ORIGINS?: string;
  /**
   * Heartbeat interval for Khala sockets.
   */
  RUNTIME_KHALA_HEARTBEAT_MS?: string;
  /**
   * Max events a WS resume may replay for topic class run_events.
   */
  RUNTIME_KHALA_RUN_EVENTS_REPLAY_BUDGET_EVENTS?: string;
  /**
   * Events kept per topic (older ones are pruned) for topic class run_events.
   */
  RUNTIME_KHALA_RUN_EVENTS_RETENTION_EVENTS?: string;
  /**
   * Max canonical payload size of one event for topic class run_events.
   */
  RUNTIME_KHALA_RUN_EVENTS_MAX_PAYLOAD_BYTES?: string;
  /**
   * Max appends per second per topic (429 beyond) for topic class run_events.
   */
  RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND?: string;
  /**
   * Max events a WS resume may replay for topic class worker_lifecycle.
   */
  RUNTIME_KHALA_WORKER_LIFECYCLE_REPLAY_BUDGET_EVENTS?: string;
  /**
   * Events kept per topic (older ones are pruned) for topic class worker_lifecycle.
   */
  RUNTIME_KHALA_WORKER_LIFECYCLE_RETENTION_EVENTS?: string;
  /**
   * Max canonical payload size of one event for topic class worker_lifecycle.
   */
  RUNTIME_KHALA_WORKER_LIFECYCLE_MAX_PAYLOAD_BYTES?: string;
  /**
   * Max appends per second per topic (429 beyond) for topic class worker_lifecycle.
   */
  RUNTIME_KHALA_WORKER_LIFECYCLE_PUBLISH_RATE_PER_SECOND?: string;
  /**
   * Max events a WS resume may replay for topic class codex_worker_events.
   */
  RUNTIME_KHALA_CODEX_WORKER_EVENTS_REPLAY_BUDGET_EVENTS?: string;
  /**
   * Events kept per topic (older ones are pruned) for topic class codex_worker_events.
   */
  RUNTIME_KHALA_CODEX_WORKER_EVENTS_RETENTION_EVENTS?: string;
  /**
   * Max canonical payload size of one event for topic class codex_worker_events.
   */
  RUNTIME_KHALA_CODEX_WORKER_EVENTS_MAX_PAYLOAD_BYTES?: string;
  /**
   * Max appends per second per topic (429 beyond) for topic class codex_worker_events.
   */
  RUNTIME_KHALA_CODEX_WORKER_EVENTS_PUBLISH_RATE_PER_SECOND?: string;
  /**
   * Max events a WS resume may replay for topic class fallback.
   */
  RUNTIME_KHALA_FALLBACK_REPLAY_BUDGET_EVENTS?: string;
  /**
   * Events kept per topic (older ones are pruned) for topic class fallback.
   */
  RUNTIME_KHALA_FALLBACK_RETENTION_EVENTS?: string;
  /**
   * Max canonical payload size of one event for topic class fallback.
   */
  RUNTIME_KHALA_FALLBACK_MAX_PAYLOAD_BYTES?: string;
  /**
   * Max appends per second per topic (429 beyond) for topic class fallback.
   */
  RUNTIME_KHALA_FALLBACK_PUBLISH_RATE_PER_SECOND?: string;
  /**
   * Max size of one client WebSocket frame.
   */
  RUNTIME_KHALA_MAX_FRAME_BYTES?: string;
  /**
   * Max subscribed topics on one socket.
   */
  RUNTIME_KHALA_MAX_TOPICS_PER_SOCKET?: string;
  /**
   * Max concurrent sockets per token subject.
   */
  RUNTIME_KHALA_MAX_SOCKETS_PER_PRINCIPAL?: string;
  /**
   * Socket send buffer above which a consumer is evicted (slow_consumer_evicted).
   */
  RUNTIME_KHALA_SLOW_CONSUMER_MAX_BUFFERED_BYTES?: string;
  /**
   * Journal poll interval that backs up LISTEN/NOTIFY so a lost notification cannot stall delivery.
   */
  RUNTIME_KHALA_FALLBACK_POLL_MS?: string;
  /**
   * Max HTTP request body size (413 beyond).
   */
  RUNTIME_HTTP_BODY_LIMIT_BYTES?: string;
  /**
   * Max PostgreSQL pool connections.
   */
  RUNTIME_DB_POOL_MAX?: string;
  /**
   * statement_timeout for every pooled connection (0 = none).
   */
  RUNTIME_DB_STATEMENT_TIMEOUT_MS?: string;
  /**
   * Credit payment backend; the reference server ships a deterministic simulated Lightning node.
   */
  RUNTIME_PAYMENT_BACKEND?: "simulated";
  /**
   * Credit policy: max sats one envelope may carry.
   */
  RUNTIME_CREDIT_MAX_SATS_PER_ENVELOPE?: string;
  /**
   * Credit policy: open envelopes allowed per agent.
   */
  RUNTIME_CREDIT_MAX_OUTSTANDING_ENVELOPES_PER_AGENT?: string;
  /**
   * Credit policy: max offer lifetime.
   */
  RUNTIME_CREDIT_MAX_OFFER_TTL_SECONDS?: string;
  /**
   * Credit policy: settlements needed before breakers may trip.
   */
  RUNTIME_CREDIT_MIN_SAMPLE?: string;
  /**
   * Credit policy: loss rate at or above which new envelopes halt.
   */
  RUNTIME_CREDIT_LOSS_RATE_HALT_THRESHOLD?: string;
  /**
   * Credit policy: LN failure rate at or above which large settlements halt.
   */
  RUNTIME_CREDIT_LN_FAILURE_RATE_HALT_THRESHOLD?: string;
  /**
   * Credit policy: settlements above this are refused while halt_large_settlements holds.
   */
  RUNTIME_CREDIT_LARGE_SETTLEMENT_SATS?: string;
  /**
   * Credit policy: window of the health rates.
   */
  RUNTIME_CREDIT_HEALTH_WINDOW_SECONDS?: string;
  /**
   * Audit log of authority writes; must be explicit in prod.
   */
  ENABLE_AUDIT_LOGGING?: "true" | "false";
  /**
   * pino log level.
   */
  LOG_LEVEL?: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  [k: string]: unknown;
}
