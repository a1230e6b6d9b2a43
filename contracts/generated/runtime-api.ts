// generated from contracts/runtime.openapi.yaml by `npm run generate`; do not edit.
/* eslint-disable */
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness probe with service identity.
         * @description Answers 200 whenever the process is up; does not touch the database.
         */
        get: operations["getHealthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness probe (database reachable and migration ledger equals the contract's migration set).
         * @description 200 only when the database answers **and** the applied migration ledger
         *     (`runtime.schema_migrations`) equals the contract's migration set, versions and
         *     checksums. Otherwise 503 with every reason found.
         */
        get: operations["getReadyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics in the text exposition format.
         * @description Exposes at least `runtime_http_requests_total{route,status}`,
         *     `khala_deliveries_total{topic_class}`, `khala_replays_total{topic_class}`,
         *     `khala_stale_cursors_total{reason_code}` and `khala_evictions_total{reason}`.
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Detailed service health, identity and configuration fingerprint.
         * @description Answers 200 even when the database is down (`status: degraded`,
         *     `schema_version: null`). `config_fingerprint` is the lowercase hex sha256 of the
         *     RFC 8785 canonical JSON object mapping each non-secret, environment-owned variable
         *     to its effective string value after defaults (unset variables omitted).
         */
        get: operations["getInternalHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The bundled OpenAPI contract the server implements.
         * @description Served from the contract file (this document) so the harness can diff it against its local contract.
         */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a run owned by the caller given in x-oa-user-id.
         * @description rust_active → 201 with the run (`status: created`, `latest_seq: 0`); shadow_only → 202
         *     `ShadowWriteAccepted`; read_only → 503 `write_path_frozen`.
         */
        post: operations["createRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/runs/{run_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a run's summary.
         * @description Returns the run summary, including its status and the latest event seq.
         */
        get: operations["getRun"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/runs/{run_id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Append an event to a run (authority write; allocates the next topic seq).
         * @description The event, its seq on topic `run:{run_id}:events` (equal to the run event seq), the
         *     journal row, the run summary and the projection checkpoint commit atomically.
         *     `idempotency_key` is scoped per run: same key + same body → the stored event with the
         *     same seq and `idempotent_replay: true`; same key + different body → 409 `conflict`.
         *     A rejected write (any 4xx) consumes no seq. A canceled or terminal run rejects new
         *     events with 409.
         */
        post: operations["appendRunEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/runs/{run_id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Request cancellation of a run (appends a run.cancel_requested event).
         * @description First cancel answers 202 with `idempotent_replay: false` and appends a
         *     `run.cancel_requested` event; later cancels answer 200 with `idempotent_replay: true`
         *     and append nothing. After cancellation the run rejects new events with 409.
         */
        post: operations["cancelRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/runs/{run_id}/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Stream a run's events as Server-Sent Events.
         * @description Streams the events of topic `run:{run_id}:events` after the cursor (the last seq the
         *     client holds; `cursor` query parameter or `Last-Event-ID` header, default 0), in seq
         *     order. Each frame is:
         *
         *     ```
         *     event: message
         *     id: <seq>
         *     data: {"seq":<seq>,"event_type":"...","payload":{...},"payload_hash":"<64 hex>"}
         *
         *     ```
         *
         *     `data` is one line of JSON matching `SseRunEventData`; `id` equals the event seq.
         *     Comment lines (starting with `:`) may be sent as keep-alives and must be ignored.
         *     Without `tail_ms` the stream closes once it has caught up to the head; with `tail_ms`
         *     it stays open that many milliseconds for new events. A cursor below the retention
         *     floor (`cursor + 1 < oldest_available_seq`) answers 410 `stale_cursor` before any
         *     frame is sent.
         */
        get: operations["streamRunEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/khala/topics/{topic}/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Page through a Khala topic's messages after a cursor (HTTP poll surface).
         * @description Authenticated with a Khala sync token (SPEC §2.2), not the internal token. Returns up
         *     to `limit` messages with `seq > after_seq` in seq order. `next_cursor` is the last seq
         *     returned (equal to `after_seq` when no message is returned); `replay_complete` is true
         *     when `next_cursor` has reached `head_seq`. The replay budget does not apply here: the
         *     poll answers 410 `stale_cursor` only below the retention floor
         *     (`after_seq + 1 < oldest_available_seq`), with the same `details` as the WebSocket
         *     `stale_cursor` error. A topic the token may not read answers 403 `forbidden`.
         */
        get: operations["pollKhalaTopicMessages"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/khala/fanout/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Per-topic windows, per-class policy and delivery counters of the Khala fan-out.
         * @description `topics` lists the retention window and counters of every known topic; `classes` the
         *     effective per-class policy (replay budget, retention, max payload, publish rate);
         *     `delivery` the process-wide delivery counters.
         */
        get: operations["getKhalaFanoutMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/sync/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mint a Khala sync token (stand-in for the control service's token endpoint).
         * @description Issues an HS256 JWT signed with RUNTIME_SYNC_TOKEN_SIGNING_KEY carrying `iss`, `aud`,
         *     `sub`, `exp`, `nbf`, `iat`, `jti`, `scopes`, and `sid`/`did` when `session_id`/
         *     `device_id` are given.
         */
        post: operations["mintSyncToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/sync/sessions/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke sync sessions/devices and evict their live sockets.
         * @description Tokens whose `sid` or `did` is revoked are denied from then on (`token_revoked`);
         *     matching live WebSocket connections receive `session_revoked` and are closed with 4001.
         */
        post: operations["revokeSyncSessions"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/credit/intent": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Record a credit intent (idempotent per agent_id + idempotency_key).
         * @description `intent_id = "cepi_" + sha256(agent_id + ":" + idempotency_key)[0:24]`. Same key and same
         *     fingerprint → the stored intent (200); same key with drifted fields → 409 `conflict`.
         */
        post: operations["createCreditIntent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/credit/offer": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a credit offer from a pool to an agent (idempotent by request fingerprint).
         * @description `offer_id = "cepo_" + sha256(canonical request fingerprint)[0:24]`; replaying the same
         *     request returns the stored offer (200). `exp` in the past or values over the policy
         *     caps (e.g. `max_sats` above `max_sats_per_envelope`, `exp` beyond
         *     `max_offer_ttl_seconds`) → 400. Unknown `intent_id` → 404; an `intent_id` whose intent
         *     does not match the offer (agent, scope, amount) or an offer that is no longer
         *     `offered` → 409.
         */
        post: operations["createCreditOffer"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/credit/envelope": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Accept an offer and issue a credit envelope to a provider.
         * @description `envelope_id = "cepe_" + sha256(offer_id + provider_id fingerprint)[0:24]`; replaying the
         *     same request returns the stored envelope (200). Unknown offer → 404; expired offer or
         *     over the per-agent outstanding-envelope cap → 400; an offer already consumed by
         *     another provider, revoked or expired-by-status → 409; `halt_new_envelopes` breaker
         *     tripped → 502 `dependency_unavailable`.
         */
        post: operations["createCreditEnvelope"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/credit/settle": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Settle a credit envelope (200 for every outcome; idempotent).
         * @description Expired envelope → outcome `expired`; `verification_passed: false` → `failed` with
         *     `spent_sats: 0`; otherwise the provider invoice is paid through the payment backend →
         *     `success` or `defaulted`. Every outcome answers 200; a replay answers the stored
         *     settlement (200); a replay with drifted fields → 409. Unknown envelope → 404. A
         *     settlement above `large_settlement_sats` while `halt_large_settlements` is tripped →
         *     502 `dependency_unavailable`.
         */
        post: operations["settleCreditEnvelope"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/credit/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Credit health (loss and Lightning failure rates over the window), breakers and policy.
         * @description Loss rate and Lightning failure rate over `policy.health_window_seconds`; a breaker trips
         *     when its sample is at least `policy.min_sample` and its rate reaches the halt threshold.
         */
        get: operations["getCreditHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/v1/credit/agents/{agent_id}/exposure": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An agent's open exposure, 30-day history and underwriting terms.
         * @description An agent with no credit history answers 200 with zero counts (never 404).
         */
        get: operations["getCreditAgentExposure"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description Lowercase hex sha256. */
        Sha256Hex: string;
        /** @description 64 lowercase hex characters (agent_id, pool_id, provider_id). */
        Hex64Id: string;
        /** @enum {string} */
        AuthorityWriteMode: "rust_active" | "shadow_only" | "read_only";
        /** @enum {string} */
        ErrorCode: "unauthorized" | "forbidden" | "invalid_request" | "not_found" | "conflict" | "stale_cursor" | "rate_limited" | "payload_too_large" | "write_path_frozen" | "dependency_unavailable" | "internal_error";
        /** @description Every error body (except `/readyz` 503). */
        ErrorEnvelope: {
            error: {
                code: components["schemas"]["ErrorCode"];
                /** @description Human-readable; never contains secrets. */
                message: string;
                /** @description Machine-readable context (open object). */
                details?: {
                    [key: string]: unknown;
                };
            };
        };
        UnauthorizedError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "unauthorized";
            };
        };
        SyncUnauthorizedError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "unauthorized";
                details: {
                    /** @enum {string} */
                    reason_code: "missing_authorization" | "invalid_authorization_scheme" | "invalid_token" | "token_expired" | "token_not_yet_valid" | "missing_jti" | "missing_iat" | "token_too_old" | "token_revoked";
                };
            };
        };
        ForbiddenError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "forbidden";
                details: {
                    /** @enum {string} */
                    reason_code: "missing_scope" | "not_owner" | "origin_not_allowed";
                };
            };
        };
        InvalidRequestError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "invalid_request";
            };
        };
        NotFoundError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "not_found";
            };
        };
        ConflictError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "conflict";
            };
        };
        PayloadTooLargeError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "payload_too_large";
            };
        };
        RateLimitedError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "rate_limited";
            };
        };
        StaleCursorError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "stale_cursor";
                details: components["schemas"]["StaleCursorDetails"];
            };
        };
        WriteUnavailableError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @enum {string} */
                code?: "write_path_frozen" | "dependency_unavailable";
            };
        };
        DependencyUnavailableError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "dependency_unavailable";
            };
        };
        InternalErrorError: components["schemas"]["ErrorEnvelope"] & {
            error?: {
                /** @constant */
                code?: "internal_error";
            };
        };
        HealthzResponse: {
            /** @constant */
            status: "ok";
            service: string;
            build_sha: string;
            authority_write_mode: components["schemas"]["AuthorityWriteMode"];
        };
        ReadyzResponse: {
            /** @constant */
            status: "ready";
            /** @description Version of the latest applied migration (file name without `.sql`). */
            schema_version: string;
        };
        ReadinessFailure: {
            /** @constant */
            status: "not_ready";
            /**
             * @description Every reason found, e.g. `database_unavailable`, `migration_missing:<version>`,
             *     `migration_checksum_mismatch:<version>`, `migration_unknown:<version>`,
             *     `migration_execution_failed`.
             */
            reasons: string[];
        };
        InternalHealthResponse: {
            /** @enum {string} */
            status: "ok" | "degraded";
            service: string;
            version: string;
            build_sha: string;
            authority_write_mode: components["schemas"]["AuthorityWriteMode"];
            /** @description Latest applied migration version; null when the database is unreachable. */
            schema_version: string | null;
            config_fingerprint: components["schemas"]["Sha256Hex"];
            /** @enum {string} */
            payment_backend: "simulated" | "lightning";
        };
        /** @description A bundled OpenAPI 3.1 document (open object). */
        OpenApiDocument: {
            openapi: string;
            info: {
                [key: string]: unknown;
            };
            paths: {
                [key: string]: unknown;
            };
        };
        /** @enum {string} */
        RunStatus: "created" | "running" | "canceled" | "completed" | "failed";
        Run: {
            id: string;
            /** @description The thread given at creation; null when none was given. */
            thread_id: string | null;
            /** @description The `x-oa-user-id` given at creation. */
            owner: string;
            status: components["schemas"]["RunStatus"];
            /** @description Seq of the latest event on `run:{id}:events` (0 when none). */
            latest_seq: number;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        RunResponse: {
            run: components["schemas"]["Run"];
        };
        CreateRunRequest: {
            thread_id?: string;
            /** @description Free-form metadata (open object). */
            metadata?: {
                [key: string]: unknown;
            };
        };
        AppendRunEventRequest: {
            event_type: string;
            /** @description Scoped per run. */
            idempotency_key: string;
            /** @description Free-form event payload (open object). */
            payload: {
                [key: string]: unknown;
            };
        };
        RunEvent: {
            run_id: string;
            /** @description Run event seq, equal to the seq on topic `run:{run_id}:events`. */
            seq: number;
            event_type: string;
            payload: {
                [key: string]: unknown;
            };
            payload_hash: components["schemas"]["Sha256Hex"];
            /** Format: date-time */
            created_at: string;
        };
        AppendRunEventResponse: {
            event: components["schemas"]["RunEvent"];
            idempotent_replay: boolean;
        };
        CancelRunRequest: {
            reason?: string;
        };
        CancelRunResponse: {
            run: components["schemas"]["Run"];
            /** @description false on the first cancel (202), true afterwards (200). */
            idempotent_replay: boolean;
        };
        /** @description shadow_only mode answer to an authority write; carries no seq. */
        ShadowWriteAccepted: {
            /** @constant */
            status: "shadow_recorded";
            /** @constant */
            authority_write_mode: "shadow_only";
            /** @enum {string} */
            operation: "create_run" | "append_run_event" | "cancel_run";
            shadow_write_id: string;
            payload_hash: components["schemas"]["Sha256Hex"];
        };
        /** @description JSON carried in the `data:` line of each run stream SSE frame. */
        SseRunEventData: {
            seq: number;
            event_type: string;
            payload: {
                [key: string]: unknown;
            };
            payload_hash: components["schemas"]["Sha256Hex"];
        };
        /** @enum {string} */
        TopicClass: "run_events" | "worker_lifecycle" | "codex_worker_events" | "fallback";
        KhalaUpdate: {
            topic: string;
            seq: number;
            epoch: string;
            doc_key: string;
            doc_version: number;
            event_type: string;
            payload: {
                [key: string]: unknown;
            };
            payload_hash: components["schemas"]["Sha256Hex"];
            /** Format: date-time */
            published_at: string;
        };
        KhalaPollResponse: {
            topic: string;
            messages: components["schemas"]["KhalaUpdate"][];
            oldest_available_seq: number;
            head_seq: number;
            /** @description Last seq returned; equals `after_seq` when `messages` is empty. */
            next_cursor: number;
            /** @description True when `next_cursor` has reached `head_seq`. */
            replay_complete: boolean;
            limit_applied: number;
        };
        /** @description Bootstrap snapshot; continue with `resume_after = as_of_seq`. */
        KhalaSnapshot: {
            /** @constant */
            schema: "openagents.sync.snapshot.v1";
            doc_key: string;
            as_of_seq: number;
            payload: {
                [key: string]: unknown;
            };
        };
        StaleCursorDetails: {
            topic: string;
            requested_seq: number;
            oldest_available_seq: number;
            head_seq: number;
            qos_tier: string;
            replay_budget_events: number;
            /**
             * @description In this order when several hold: retention_floor_breach, replay_budget_exceeded.
             *     `epoch_mismatch` is always alone. The HTTP poll and SSE only report
             *     retention_floor_breach.
             */
            reason_codes: ("retention_floor_breach" | "replay_budget_exceeded" | "epoch_mismatch")[];
            /** @constant */
            recovery: "reset_local_watermark_and_replay_bootstrap";
            /** @description The topic's current epoch (K7). */
            epoch?: string;
            snapshot?: components["schemas"]["KhalaSnapshot"];
        };
        KhalaTopicCounters: {
            deliveries: number;
            replays: number;
            stale_cursors: number;
        } & {
            [key: string]: number;
        };
        KhalaTopicWindow: {
            topic: string;
            topic_class: components["schemas"]["TopicClass"];
            qos_tier: string;
            oldest_available_seq: number;
            head_seq: number;
            replay_budget_events: number;
            counters: components["schemas"]["KhalaTopicCounters"];
        };
        KhalaClassPolicy: {
            topic_class: components["schemas"]["TopicClass"];
            qos_tier: string;
            replay_budget_events: number;
            retention_events: number;
            max_payload_bytes: number;
            publish_rate_per_second: number;
        };
        KhalaDeliveryCounters: {
            active_connections: number;
            active_subscriptions: number;
            deliveries_total: number;
            replays_total: number;
            stale_cursors_total: number;
            evictions_total: number;
        };
        KhalaFanoutMetricsResponse: {
            /** Format: date-time */
            generated_at: string;
            topics: components["schemas"]["KhalaTopicWindow"][];
            classes: components["schemas"]["KhalaClassPolicy"][];
            delivery: components["schemas"]["KhalaDeliveryCounters"];
        };
        /** @enum {string} */
        SyncScope: "runtime.run_events" | "runtime.worker_lifecycle" | "runtime.codex_worker_events" | "runtime.read";
        SyncTokenRequest: {
            sub: string;
            scopes: components["schemas"]["SyncScope"][];
            ttl_seconds: number;
            /** @description Becomes the `sid` claim. */
            session_id?: string;
            /** @description Becomes the `did` claim. */
            device_id?: string;
        };
        SyncTokenResponse: {
            token: string;
            /** Format: date-time */
            expires_at: string;
        };
        /**
         * @description At least one of `session_ids` / `device_ids` must be present (each non-empty when
         *     present); with `additionalProperties: false` and `reason` required this is expressed as
         *     `minProperties: 2`.
         */
        SyncSessionRevokeRequest: {
            session_ids?: string[];
            device_ids?: string[];
            reason: string;
        };
        SyncSessionRevokeResponse: {
            revoked_session_ids: string[];
            revoked_device_ids: string[];
            evicted_connections: number;
        };
        CreditIntentId: string;
        CreditOfferId: string;
        CreditEnvelopeId: string;
        CreditSettlementId: string;
        /** @constant */
        CreditScopeType: "nip90";
        CreditScopeId: string;
        /** @enum {string} */
        CreditOfferStatus: "offered" | "accepted" | "expired" | "revoked";
        /** @enum {string} */
        CreditEnvelopeStatus: "issued" | "settled" | "expired" | "defaulted" | "failed";
        /** @enum {string} */
        CreditSettlementOutcome: "success" | "failed" | "expired" | "defaulted";
        CreditReceiptV1: {
            /** @constant */
            schema: "openagents.credit.receipt.v1";
            receipt_id: string;
            kind: string;
            sha256: components["schemas"]["Sha256Hex"];
            /** Format: date-time */
            issued_at: string;
            /** @description The receipt body; `sha256` is the hex sha256 of its RFC 8785 canonical JSON. */
            body: {
                [key: string]: unknown;
            };
        };
        CreditIntentRequestV1: {
            /** @constant */
            schema: "openagents.credit.intent_request.v1";
            /** @description Scoped per agent_id. */
            idempotency_key: string;
            agent_id: components["schemas"]["Hex64Id"];
            scope_type: components["schemas"]["CreditScopeType"];
            scope_id: components["schemas"]["CreditScopeId"];
            max_sats: number;
            /** Format: date-time */
            exp: string;
            /** @description Free-form policy context (open object). */
            policy_context?: {
                [key: string]: unknown;
            };
        };
        CreditIntentV1: {
            intent_id: components["schemas"]["CreditIntentId"];
            idempotency_key: string;
            agent_id: components["schemas"]["Hex64Id"];
            scope_type: components["schemas"]["CreditScopeType"];
            scope_id: string;
            max_sats: number;
            /** Format: date-time */
            exp: string;
            /** Format: date-time */
            created_at: string;
        };
        CreditIntentResponseV1: {
            /** @constant */
            schema: "openagents.credit.intent_response.v1";
            intent: components["schemas"]["CreditIntentV1"];
        };
        CreditOfferRequestV1: {
            /** @constant */
            schema: "openagents.credit.offer_request.v1";
            agent_id: components["schemas"]["Hex64Id"];
            pool_id: components["schemas"]["Hex64Id"];
            intent_id?: components["schemas"]["CreditIntentId"];
            scope_type: components["schemas"]["CreditScopeType"];
            scope_id: components["schemas"]["CreditScopeId"];
            max_sats: number;
            fee_bps: number;
            requires_verifier: boolean;
            /** Format: date-time */
            exp: string;
        };
        CreditOfferV1: {
            offer_id: components["schemas"]["CreditOfferId"];
            agent_id: components["schemas"]["Hex64Id"];
            pool_id: components["schemas"]["Hex64Id"];
            /** @description The intent the offer answers, when one was given (optional). */
            intent_id?: string | null;
            scope_type: components["schemas"]["CreditScopeType"];
            scope_id: string;
            max_sats: number;
            fee_bps: number;
            requires_verifier: boolean;
            /** Format: date-time */
            exp: string;
            status: components["schemas"]["CreditOfferStatus"];
            /** Format: date-time */
            issued_at: string;
        };
        CreditOfferResponseV1: {
            /** @constant */
            schema: "openagents.credit.offer_response.v1";
            offer: components["schemas"]["CreditOfferV1"];
        };
        CreditEnvelopeRequestV1: {
            /** @constant */
            schema: "openagents.credit.envelope_request.v1";
            offer_id: components["schemas"]["CreditOfferId"];
            provider_id: components["schemas"]["Hex64Id"];
        };
        CreditEnvelopeV1: {
            envelope_id: components["schemas"]["CreditEnvelopeId"];
            offer_id: components["schemas"]["CreditOfferId"];
            agent_id: components["schemas"]["Hex64Id"];
            pool_id: components["schemas"]["Hex64Id"];
            provider_id: components["schemas"]["Hex64Id"];
            scope_type: components["schemas"]["CreditScopeType"];
            scope_id: string;
            max_sats: number;
            fee_bps: number;
            /** Format: date-time */
            exp: string;
            status: components["schemas"]["CreditEnvelopeStatus"];
            /** Format: date-time */
            issued_at: string;
        };
        CreditEnvelopeResponseV1: {
            /** @constant */
            schema: "openagents.credit.envelope_response.v1";
            envelope: components["schemas"]["CreditEnvelopeV1"];
            receipt: components["schemas"]["CreditReceiptV1"];
        };
        CreditSettleRequestV1: {
            /** @constant */
            schema: "openagents.credit.settle_request.v1";
            envelope_id: components["schemas"]["CreditEnvelopeId"];
            verification_passed: boolean;
            verification_receipt_sha256: components["schemas"]["Sha256Hex"];
            /** @description BOLT11 invoice. In the simulated backend an invoice starting `lnfail` fails. */
            provider_invoice: string;
            provider_host: string;
            max_fee_msats: number;
            /** @description Free-form policy context (open object). */
            policy_context?: {
                [key: string]: unknown;
            };
        };
        CreditSettleResponseV1: {
            /** @constant */
            schema: "openagents.credit.settle_response.v1";
            envelope_id: components["schemas"]["CreditEnvelopeId"];
            settlement_id: components["schemas"]["CreditSettlementId"];
            outcome: components["schemas"]["CreditSettlementOutcome"];
            spent_sats: number;
            fee_sats: number;
            verification_receipt_sha256: components["schemas"]["Sha256Hex"];
            /** @description Present when a payment was attempted. */
            liquidity_receipt_sha256?: string | null;
            receipt: components["schemas"]["CreditReceiptV1"];
        };
        CreditBreakers: {
            halt_new_envelopes: boolean;
            halt_large_settlements: boolean;
        };
        CreditPolicy: {
            max_sats_per_envelope: number;
            max_outstanding_envelopes_per_agent: number;
            max_offer_ttl_seconds: number;
            min_sample: number;
            loss_rate_halt_threshold: number;
            ln_failure_rate_halt_threshold: number;
            large_settlement_sats: number;
            health_window_seconds: number;
        };
        CreditHealthResponseV1: {
            /** @constant */
            schema: "openagents.credit.health.v1";
            /** Format: date-time */
            generated_at: string;
            open_envelope_count: number;
            open_reserved_commitments_sats: number;
            settlement_sample: number;
            loss_count: number;
            loss_rate: number;
            ln_pay_sample: number;
            ln_fail_count: number;
            ln_failure_rate: number;
            breakers: components["schemas"]["CreditBreakers"];
            policy: components["schemas"]["CreditPolicy"];
        };
        CreditAgentExposureResponseV1: {
            /** @constant */
            schema: "openagents.credit.agent_exposure.v1";
            agent_id: components["schemas"]["Hex64Id"];
            open_envelope_count: number;
            open_exposure_sats: number;
            settled_count_30d: number;
            success_volume_sats_30d: number;
            pass_rate_30d: number;
            loss_count_30d: number;
            underwriting_limit_sats: number;
            underwriting_fee_bps: number;
            requires_verifier: boolean;
            /** Format: date-time */
            computed_at: string;
        };
    };
    responses: {
        /** @description `unauthorized`: missing or invalid `Authorization: Bearer <RUNTIME_INTERNAL_TOKEN>`. */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["UnauthorizedError"];
            };
        };
        /**
         * @description `unauthorized`: the sync token was denied; `details.reason_code` is the first failing
         *     check, in this order: missing_authorization, invalid_authorization_scheme,
         *     invalid_token, token_expired, token_not_yet_valid, missing_jti, missing_iat,
         *     token_too_old, token_revoked.
         */
        SyncUnauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["SyncUnauthorizedError"];
            };
        };
        /**
         * @description `forbidden`: the sync token may not read this topic (`details.reason_code`
         *     `missing_scope` or `not_owner`), or the Origin is not allowed (`origin_not_allowed`).
         */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ForbiddenError"];
            };
        };
        /** @description `invalid_request`: the body, a parameter or a header violates the contract, or a domain rule rejects the input. */
        InvalidRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InvalidRequestError"];
            };
        };
        /** @description `not_found`: the addressed resource does not exist. */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["NotFoundError"];
            };
        };
        /** @description `conflict`: an idempotency key reused with a different body, or the resource state forbids the write. */
        Conflict: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ConflictError"];
            };
        };
        /** @description `payload_too_large`: the body or the event payload exceeds the limit (the topic class max payload size for run events). */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["PayloadTooLargeError"];
            };
        };
        /** @description `rate_limited`: publish rate above the topic class limit. */
        RateLimited: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["RateLimitedError"];
            };
        };
        /**
         * @description `stale_cursor`: the cursor is below the retention floor (`cursor + 1 <
         *     oldest_available_seq`). `details` is `StaleCursorDetails`, the same as the WebSocket
         *     `stale_cursor` error frame's details.
         */
        StaleCursor: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["StaleCursorError"];
            };
        };
        /**
         * @description Either `write_path_frozen` (the deployment runs in `read_only` authority write mode)
         *     or `dependency_unavailable` (the database is unreachable).
         */
        WritePathFrozen: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["WriteUnavailableError"];
            };
        };
        /** @description `dependency_unavailable`: the database is unreachable. */
        DependencyUnavailable: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["DependencyUnavailableError"];
            };
        };
        /** @description `dependency_unavailable`: a credit breaker is tripped (`halt_new_envelopes` for envelopes, `halt_large_settlements` for settlements above `large_settlement_sats`). */
        CreditBreakerOpen: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["DependencyUnavailableError"];
            };
        };
        /** @description `internal_error`: unexpected server failure. */
        InternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InternalErrorError"];
            };
        };
    };
    parameters: {
        /** @description Run id. */
        RunId: string;
        /** @description The run owner (the user on whose behalf the run is created). */
        OaUserId: string;
    };
    requestBodies: never;
    headers: {
        /** @description Seconds to wait before retrying. */
        RetryAfter: number;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is up. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "service": "runtime",
                     *       "build_sha": "dev",
                     *       "authority_write_mode": "rust_active"
                     *     }
                     */
                    "application/json": components["schemas"]["HealthzResponse"];
                };
            };
        };
    };
    getReadyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready to serve traffic. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ready",
                     *       "schema_version": "0001_runtime_sync_bootstrap"
                     *     }
                     */
                    "application/json": components["schemas"]["ReadyzResponse"];
                };
            };
            /** @description Not ready. This is the one error response that does not use the error envelope. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "not_ready",
                     *       "reasons": [
                     *         "migration_missing:0002_runtime_sync_stream_events"
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["ReadinessFailure"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format (version 0.0.4). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
    getInternalHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Health document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InternalHealthResponse"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["InternalError"];
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description This document, bundled (external references resolved) as JSON. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OpenApiDocument"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["InternalError"];
        };
    };
    createRun: {
        parameters: {
            query?: never;
            header: {
                /** @description The run owner (the user on whose behalf the run is created). */
                "x-oa-user-id": components["parameters"]["OaUserId"];
            };
            path?: never;
            cookie?: never;
        };
        /** @description Optional; an absent body is the same as `{}`. */
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CreateRunRequest"];
            };
        };
        responses: {
            /** @description Run created (rust_active). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunResponse"];
                };
            };
            /** @description shadow_only mode; the write was validated and recorded in the shadow journal, nothing was published. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ShadowWriteAccepted"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["WritePathFrozen"];
        };
    };
    getRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Run id. */
                run_id: components["parameters"]["RunId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunResponse"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["DependencyUnavailable"];
        };
    };
    appendRunEvent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Run id. */
                run_id: components["parameters"]["RunId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "event_type": "run.step",
                 *       "idempotency_key": "step-1",
                 *       "payload": {
                 *         "text": "hello"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["AppendRunEventRequest"];
            };
        };
        responses: {
            /** @description Event appended (or the stored event on an idempotent replay). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppendRunEventResponse"];
                };
            };
            /** @description shadow_only mode; recorded in the shadow journal, no seq allocated. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ShadowWriteAccepted"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["WritePathFrozen"];
        };
    };
    cancelRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Run id. */
                run_id: components["parameters"]["RunId"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CancelRunRequest"];
            };
        };
        responses: {
            /** @description The run was already canceled (`idempotent_replay: true`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CancelRunResponse"];
                };
            };
            /**
             * @description Cancellation accepted (`CancelRunResponse` with `idempotent_replay: false`), or, in
             *     shadow_only mode, `ShadowWriteAccepted` with `operation: cancel_run`.
             */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CancelRunResponse"] | components["schemas"]["ShadowWriteAccepted"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            /** @description The run already reached a terminal status other than `canceled` (`completed` or `failed`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConflictError"];
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["WritePathFrozen"];
        };
    };
    streamRunEvents: {
        parameters: {
            query?: {
                /** @description Last seq the client holds (0 = from the beginning). */
                cursor?: number;
                /** @description Keep the stream open this long (milliseconds) for new events after catching up. */
                tail_ms?: number;
            };
            header?: {
                /** @description Standard SSE resume header; same meaning as `cursor`. If both are present they must be equal. */
                "Last-Event-ID"?: string;
            };
            path: {
                /** @description Run id. */
                run_id: components["parameters"]["RunId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An SSE stream of `event: message` frames whose `data` is `SseRunEventData`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /**
             * @description `invalid_request`: malformed `cursor`, `tail_ms` or `Last-Event-ID`; `cursor` and
             *     `Last-Event-ID` both present and different; or a cursor ahead of the head
             *     (`details.reason_code: cursor_ahead_of_head`).
             */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InvalidRequestError"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            410: components["responses"]["StaleCursor"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["DependencyUnavailable"];
        };
    };
    pollKhalaTopicMessages: {
        parameters: {
            query?: {
                /** @description Last seq the client holds (0 = from the beginning). */
                after_seq?: number;
                /** @description Maximum number of messages to return. */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description Topic name, e.g. `run:{run_id}:events`, `worker:{worker_id}:lifecycle`, `runtime.codex_worker_events`. */
                topic: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of messages. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KhalaPollResponse"];
                };
            };
            /**
             * @description `invalid_request`: malformed `after_seq` or `limit`, an invalid topic name, or
             *     `after_seq` ahead of the head (`details.reason_code: cursor_ahead_of_head`).
             */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InvalidRequestError"];
                };
            };
            401: components["responses"]["SyncUnauthorized"];
            403: components["responses"]["Forbidden"];
            410: components["responses"]["StaleCursor"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["DependencyUnavailable"];
        };
    };
    getKhalaFanoutMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Fan-out metrics snapshot. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KhalaFanoutMetricsResponse"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["DependencyUnavailable"];
        };
    };
    mintSyncToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "sub": "user-1",
                 *       "scopes": [
                 *         "runtime.run_events"
                 *       ],
                 *       "ttl_seconds": 300,
                 *       "session_id": "sess-1"
                 *     }
                 */
                "application/json": components["schemas"]["SyncTokenRequest"];
            };
        };
        responses: {
            /** @description Token minted. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SyncTokenResponse"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["DependencyUnavailable"];
        };
    };
    revokeSyncSessions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "session_ids": [
                 *         "sess-1"
                 *       ],
                 *       "reason": "user_logout"
                 *     }
                 */
                "application/json": components["schemas"]["SyncSessionRevokeRequest"];
            };
        };
        responses: {
            /** @description Revocation applied. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SyncSessionRevokeResponse"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["DependencyUnavailable"];
        };
    };
    createCreditIntent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreditIntentRequestV1"];
            };
        };
        responses: {
            /** @description Intent recorded, or the stored intent on replay. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreditIntentResponseV1"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["WritePathFrozen"];
        };
    };
    createCreditOffer: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreditOfferRequestV1"];
            };
        };
        responses: {
            /** @description Offer created, or the stored offer on replay. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreditOfferResponseV1"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["WritePathFrozen"];
        };
    };
    createCreditEnvelope: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreditEnvelopeRequestV1"];
            };
        };
        responses: {
            /** @description Envelope issued, or the stored envelope on replay. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreditEnvelopeResponseV1"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["InternalError"];
            502: components["responses"]["CreditBreakerOpen"];
            503: components["responses"]["WritePathFrozen"];
        };
    };
    settleCreditEnvelope: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreditSettleRequestV1"];
            };
        };
        responses: {
            /** @description Settlement recorded (any outcome), or the stored settlement on replay. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreditSettleResponseV1"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            500: components["responses"]["InternalError"];
            502: components["responses"]["CreditBreakerOpen"];
            503: components["responses"]["WritePathFrozen"];
        };
    };
    getCreditHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Credit health document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreditHealthResponseV1"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["DependencyUnavailable"];
        };
    };
    getCreditAgentExposure: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Agent id, 64 lowercase hex characters. */
                agent_id: components["schemas"]["Hex64Id"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Exposure document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreditAgentExposureResponseV1"];
                };
            };
            400: components["responses"]["InvalidRequest"];
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["DependencyUnavailable"];
        };
    };
}
