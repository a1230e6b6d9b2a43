// generated from contracts/khala.asyncapi.yaml by `npm run generate`; do not edit.
/* eslint-disable */
export type KhalaContract =
  | Topic
  | RequestId
  | Epoch
  | QosTier
  | TopicClass
  | TopicWatermarks
  | ResumeCursor
  | SubscribeFrame
  | UnsubscribeFrame
  | PingFrame
  | ClientFrame
  | SubscribedTopic
  | SubscribedFrame
  | KhalaUpdate
  | UpdateBatchFrame
  | HeartbeatFrame
  | PongFrame
  | KhalaErrorCode
  | ReasonCodeDetails
  | StaleCursorReasonCode
  | StaleCursorDetails
  | KhalaSnapshot
  | ErrorFrame
  | ServerFrame
  | SyncTokenClaims
  | HandshakeDenyReasonCode
  | HandshakeDenyResponse
  | CloseCode;
/**
 * Topic name, e.g. `run:{run_id}:events`. See `TopicClass`.
 */
export type Topic = string;
/**
 * Client-chosen id echoed in the answer (`subscribed`, `pong`, `error`).
 */
export type RequestId = string;
/**
 * Opaque topic epoch; changes whenever the topic's history is reset (K7). Compare for equality only.
 */
export type Epoch = string;
/**
 * Fixed per class: run_events warm, worker_lifecycle warm, codex_worker_events hot, fallback cold.
 */
export type QosTier = "hot" | "warm" | "cold";
/**
 * `run:{run_id}:events` → run_events; `worker:{worker_id}:lifecycle` →
 * worker_lifecycle; exactly `runtime.codex_worker_events` →
 * codex_worker_events; anything else → fallback.
 *
 */
export type TopicClass = "run_events" | "worker_lifecycle" | "codex_worker_events" | "fallback";
/**
 * Any client → server frame, discriminated by `type`. Anything else is `invalid_request`.
 */
export type ClientFrame = SubscribeFrame | UnsubscribeFrame | PingFrame;
/**
 * - `unauthorized`: the socket's token is no longer valid (e.g. expired).
 * - `forbidden_topic`: per topic; `reason_code` `missing_scope` or `not_owner`.
 * - `bad_subscription`: `invalid_frame` (whole subscribe rejected) or `cursor_ahead_of_head` (per topic, K5).
 * - `invalid_request`: non-JSON (`malformed_json`), unknown/missing type (`unknown_type`), invalid unsubscribe/ping (`invalid_frame`).
 * - `stale_cursor`: per topic; `details` is `StaleCursorDetails` with `reason_codes[]` (K6, K7).
 * - `payload_too_large` / `rate_limited`: a client frame over the server's inbound size or rate limit.
 * - `slow_consumer_evicted`: send buffer over threshold; socket closed with 4002.
 * - `session_revoked`: token's `sid`/`did`/`jti` revoked; socket closed with 4001.
 * - `internal_error`: unexpected server failure.
 *
 */
export type KhalaErrorCode =
  | "unauthorized"
  | "forbidden_topic"
  | "bad_subscription"
  | "invalid_request"
  | "stale_cursor"
  | "payload_too_large"
  | "rate_limited"
  | "slow_consumer_evicted"
  | "session_revoked"
  | "internal_error";
export type StaleCursorReasonCode = "retention_floor_breach" | "replay_budget_exceeded" | "epoch_mismatch";
/**
 * Any server → client frame, discriminated by `type`.
 */
export type ServerFrame = SubscribedFrame | UpdateBatchFrame | HeartbeatFrame | PongFrame | ErrorFrame;
/**
 * `details.reason_code` of a pre-upgrade denial; listed in check order after the origin check. `origin_not_allowed` → 403 `forbidden`, all others → 401 `unauthorized`.
 */
export type HandshakeDenyReasonCode =
  | "missing_authorization"
  | "invalid_authorization_scheme"
  | "invalid_token"
  | "token_expired"
  | "token_not_yet_valid"
  | "missing_jti"
  | "missing_iat"
  | "token_too_old"
  | "token_revoked"
  | "origin_not_allowed";
/**
 * WebSocket close codes the server uses (close reason = the name):
 * 4001 `session_revoked` (after the `session_revoked` error frame),
 * 4002 `slow_consumer_evicted` (after the `slow_consumer_evicted` error
 * frame, best effort), 1001 going away on server shutdown.
 *
 */
export type CloseCode = 4001 | 4002 | 1001;

/**
 * Map topic → head seq (0 for a topic with no events).
 */
export interface TopicWatermarks {
  [k: string]: number;
}
export interface ResumeCursor {
  /**
   * Last seq the client holds for the topic. `0` = from the beginning.
   */
  seq: number;
  epoch?: Epoch;
}
export interface SubscribeFrame {
  type: "subscribe";
  request_id: RequestId;
  /**
   * @minItems 1
   * @maxItems 64
   */
  topics: [Topic, ...Topic[]];
  /**
   * Map topic → cursor. Every key must also be in `topics` (otherwise
   * `bad_subscription` / `invalid_frame`). A topic without an entry
   * starts live: first delivered seq is `head_seq + 1` of `subscribed`.
   * Without `epoch` no epoch check is made.
   *
   */
  resume_after?: {
    [k: string]: ResumeCursor;
  };
}
export interface UnsubscribeFrame {
  type: "unsubscribe";
  request_id: RequestId;
  /**
   * @minItems 1
   * @maxItems 64
   */
  topics: [Topic, ...Topic[]];
}
export interface PingFrame {
  type: "ping";
  request_id: RequestId;
}
export interface SubscribedTopic {
  /**
   * Highest committed seq at subscribe time (0 if none). Live-only delivery starts at head_seq + 1.
   */
  head_seq: number;
  /**
   * F, the oldest retained seq; head_seq + 1 when nothing is retained (1 for a new topic).
   */
  oldest_available_seq: number;
  epoch: Epoch;
  qos_tier: QosTier;
}
export interface SubscribedFrame {
  type: "subscribed";
  request_id: RequestId;
  subscription_id: string;
  /**
   * Interval of `heartbeat` frames (`RUNTIME_KHALA_HEARTBEAT_MS`).
   */
  heartbeat_ms: number;
  /**
   * Accepted topics only; may be empty.
   */
  topics: {
    [k: string]: SubscribedTopic;
  };
}
export interface KhalaUpdate {
  topic: Topic;
  /**
   * Per-topic seq (K1). For run topics, the run event seq.
   */
  seq: number;
  epoch: Epoch;
  /**
   * Read-model document the update belongs to (reference convention `runtime/run_summary:{run_id}` for run topics).
   */
  doc_key: string;
  /**
   * Document version after this update (reference convention for run topics equals `seq`).
   */
  doc_version: number;
  event_type: string;
  /**
   * Event payload, opaque to Khala.
   */
  payload: {
    [k: string]: unknown;
  };
  /**
   * Lowercase hex sha256 of the RFC 8785 canonical JSON (UTF-8) of `payload` (K3).
   */
  payload_hash: string;
  /**
   * RFC 3339 commit time of the event.
   */
  published_at: string;
}
export interface UpdateBatchFrame {
  type: "update_batch";
  /**
   * Ascending seq per topic within the batch. A replay batch holds one topic only.
   */
  updates: KhalaUpdate[];
  /**
   * false on replay batches before the last one of a topic's replay;
   * true on the last replay batch, on every live batch, and on the
   * single empty batch sent when a resume is already at head.
   *
   */
  replay_complete: boolean;
  head_watermarks: TopicWatermarks;
}
export interface HeartbeatFrame {
  type: "heartbeat";
  watermarks: TopicWatermarks;
}
export interface PongFrame {
  type: "pong";
  request_id: RequestId;
}
/**
 * Details of single-cause errors (every code except `stale_cursor`). Open for extra context.
 */
export interface ReasonCodeDetails {
  reason_code: string;
  [k: string]: unknown;
}
/**
 * `details` of a `stale_cursor` error (WS) and of the HTTP 410 of poll/SSE.
 * `reason_codes` is `["epoch_mismatch"]` alone (K7), or a non-empty
 * subsequence of `["retention_floor_breach","replay_budget_exceeded"]`
 * in that order (K6). `snapshot` is present for `run_events` topics.
 * `epoch` is the topic's current epoch. Open for extra context.
 *
 */
export interface StaleCursorDetails {
  topic: Topic;
  requested_seq: number;
  oldest_available_seq: number;
  head_seq: number;
  qos_tier: QosTier;
  replay_budget_events: number;
  /**
   * @minItems 1
   * @maxItems 2
   */
  reason_codes: [StaleCursorReasonCode] | [StaleCursorReasonCode, StaleCursorReasonCode];
  recovery: "reset_local_watermark_and_replay_bootstrap";
  epoch?: Epoch;
  snapshot?: KhalaSnapshot;
  [k: string]: unknown;
}
export interface KhalaSnapshot {
  schema: "openagents.sync.snapshot.v1";
  doc_key: string;
  /**
   * The document reflects every seq ≤ as_of_seq; continue with `resume_after = {seq: as_of_seq}`.
   */
  as_of_seq: number;
  /**
   * The document as of `as_of_seq`.
   */
  payload: {
    [k: string]: unknown;
  };
}
export interface ErrorFrame {
  type: "error";
  request_id?: RequestId;
  code: KhalaErrorCode;
  /**
   * Human-readable; tests assert `code`/`reason_code`, never the message.
   */
  message: string;
  topic?: Topic;
  /**
   * Always present, possibly `{}`. `StaleCursorDetails` for `stale_cursor`, `ReasonCodeDetails` otherwise.
   */
  details: {
    [k: string]: unknown;
  };
}
/**
 * Claims of the HS256 sync token. `iss`/`aud` must equal
 * `RUNTIME_SYNC_TOKEN_ISSUER`/`RUNTIME_SYNC_TOKEN_AUDIENCE`; times are
 * NumericDate seconds. Unknown claims are ignored.
 *
 */
export interface SyncTokenClaims {
  iss: string;
  aud: string;
  /**
   * Principal; must own `run:`/`worker:` topics it reads.
   */
  sub: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  /**
   * e.g. `runtime.run_events`, `runtime.worker_lifecycle`, `runtime.codex_worker_events`, `runtime.read`.
   */
  scopes: string[];
  /**
   * Session id (revocable).
   */
  sid?: string;
  /**
   * Device id (revocable).
   */
  did?: string;
  [k: string]: unknown;
}
/**
 * HTTP body of a denied upgrade (401 or 403), in the runtime error envelope.
 */
export interface HandshakeDenyResponse {
  error: {
    code: "unauthorized" | "forbidden";
    message: string;
    details: {
      reason_code: HandshakeDenyReasonCode;
      [k: string]: unknown;
    };
  };
}
