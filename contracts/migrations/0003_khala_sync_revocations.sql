-- 0003_khala_sync_revocations: sessions and devices revoked through
-- POST /internal/v1/sync/sessions/revoke. Shared by every instance: a revoked
-- session is denied at the next upgrade or poll on any node, and live sockets are
-- evicted through NOTIFY runtime_khala_revocations.

CREATE TABLE runtime.sync_revocations (
  kind        text NOT NULL CHECK (kind IN ('session', 'device')),
  value       text NOT NULL,
  reason      text NOT NULL,
  revoked_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value)
);
