-- 0001_runtime_sync_bootstrap: authority runs, run events, Khala journal and projections.
-- Forward-only. Applied in one transaction by `runtime-gate migrate`; the ledger
-- tables (runtime.schema_migrations, runtime.migration_executions) are created by
-- the runner itself before any migration runs.

CREATE TABLE runtime.runs (
  id          text PRIMARY KEY,
  thread_id   text,
  owner       text NOT NULL,
  status      text NOT NULL DEFAULT 'created'
              CHECK (status IN ('created', 'running', 'canceled', 'completed', 'failed')),
  latest_seq  bigint NOT NULL DEFAULT 0 CHECK (latest_seq >= 0),
  metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_owner_idx ON runtime.runs (owner, created_at);

-- One row per accepted authority event. seq equals the seq of topic run:{id}:events.
CREATE TABLE runtime.run_events (
  run_id           text NOT NULL REFERENCES runtime.runs (id),
  seq              bigint NOT NULL CHECK (seq >= 1),
  event_type       text NOT NULL,
  idempotency_key  text NOT NULL,
  request_hash     text NOT NULL,
  payload          jsonb NOT NULL,
  payload_hash     text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, seq),
  CONSTRAINT run_events_idempotency_key_uniq UNIQUE (run_id, idempotency_key)
);

-- Per-topic seq allocator. The row lock taken by the allocating UPDATE serializes
-- writers of one topic until commit, which is what keeps seqs gapless (K1).
CREATE TABLE runtime.sync_topic_sequences (
  topic                 text PRIMARY KEY,
  topic_class           text NOT NULL
                        CHECK (topic_class IN ('run_events', 'worker_lifecycle', 'codex_worker_events', 'fallback')),
  head_seq              bigint NOT NULL DEFAULT 0 CHECK (head_seq >= 0),
  oldest_available_seq  bigint NOT NULL DEFAULT 1 CHECK (oldest_available_seq >= 1),
  epoch                 text NOT NULL,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- The Khala journal every surface (WS, HTTP poll, SSE) reads from.
CREATE TABLE runtime.sync_stream_events (
  topic         text NOT NULL,
  seq           bigint NOT NULL CHECK (seq >= 1),
  epoch         text NOT NULL,
  doc_key       text NOT NULL,
  doc_version   bigint NOT NULL,
  event_type    text NOT NULL,
  payload       jsonb NOT NULL,
  payload_hash  text NOT NULL,
  published_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sync_stream_events_topic_seq_key PRIMARY KEY (topic, seq)
);

-- Run summary projection; also the snapshot a stale run_events cursor rebootstraps from (K6).
CREATE TABLE runtime.sync_run_summaries (
  run_id      text PRIMARY KEY REFERENCES runtime.runs (id),
  doc_key     text NOT NULL,
  as_of_seq   bigint NOT NULL CHECK (as_of_seq >= 0),
  summary     jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Idempotent projection progress: an incoming seq <= last_seq is a no-op.
CREATE TABLE runtime.khala_projection_checkpoints (
  projection  text NOT NULL,
  topic       text NOT NULL,
  last_seq    bigint NOT NULL CHECK (last_seq >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, topic)
);

-- Writes accepted in shadow_only mode: validated and recorded, never published.
CREATE TABLE runtime.shadow_writes (
  shadow_write_id  text PRIMARY KEY,
  operation        text NOT NULL CHECK (operation IN ('create_run', 'append_run_event', 'cancel_run')),
  run_id           text,
  request          jsonb NOT NULL,
  payload_hash     text NOT NULL,
  recorded_at      timestamptz NOT NULL DEFAULT now()
);
