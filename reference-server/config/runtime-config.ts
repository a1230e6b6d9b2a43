/**
 * The typed configuration the reference server runs with, derived from a validated
 * environment (runtime-env.ts). Nothing reads process.env after this point.
 */
import type { TopicClass } from '../../contracts/generated/khala-frames.ts';
import type { components } from '../../contracts/generated/runtime-api.ts';
import type { LoadedRuntimeEnv } from './runtime-env.ts';

export type AuthorityWriteMode = components['schemas']['AuthorityWriteMode'];

export interface TopicClassLimits {
  replayBudgetEvents: number;
  retentionEvents: number;
  maxPayloadBytes: number;
  publishRatePerSecond: number;
}

/**
 * The credit policy of SPEC §3.4 (defaults there; every field overridable by a
 * RUNTIME_CREDIT_* variable). Served, in the contract's snake_case, by
 * GET /internal/v1/credit/health.
 */
export interface CreditPolicyConfig {
  maxSatsPerEnvelope: number;
  maxOutstandingEnvelopesPerAgent: number;
  maxOfferTtlSeconds: number;
  minSample: number;
  lossRateHaltThreshold: number;
  lnFailureRateHaltThreshold: number;
  largeSettlementSats: number;
  healthWindowSeconds: number;
}

export interface RuntimeConfig {
  profile: 'dev' | 'prod';
  serviceName: string;
  buildSha: string;
  instanceId: string;
  writeMode: AuthorityWriteMode;
  bindHost: string;
  bindPort: number;
  dataDir: string;
  databaseUrl: string | undefined;
  migrateOnStart: boolean;
  internalToken: string;
  sync: {
    signingKey: string;
    issuer: string;
    audience: string;
    revokedJtis: Set<string>;
    requireJti: boolean;
    maxAgeSeconds: number;
  };
  khala: {
    enforceOrigin: boolean;
    allowedOrigins: Set<string>;
    heartbeatMs: number;
    maxFrameBytes: number;
    maxTopicsPerSocket: number;
    maxSocketsPerPrincipal: number;
    slowConsumerMaxBufferedBytes: number;
    fallbackPollMs: number;
    classes: Record<TopicClass, TopicClassLimits>;
  };
  http: { bodyLimitBytes: number };
  credit: { paymentBackend: 'simulated'; policy: CreditPolicyConfig };
  db: { poolMax: number; statementTimeoutMs: number };
  auditLogging: boolean;
  logLevel: string;
  configFingerprint: string;
}

/** Normalizes an origin for allowlist comparison: lowercase, no trailing slash. */
export function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

const CLASS_ENV_PREFIX: Record<TopicClass, string> = {
  run_events: 'RUNTIME_KHALA_RUN_EVENTS',
  worker_lifecycle: 'RUNTIME_KHALA_WORKER_LIFECYCLE',
  codex_worker_events: 'RUNTIME_KHALA_CODEX_WORKER_EVENTS',
  fallback: 'RUNTIME_KHALA_FALLBACK',
};

/** Builds the config from an environment that loadRuntimeEnv found valid. */
export function toRuntimeConfig(env: LoadedRuntimeEnv): RuntimeConfig {
  if (env.violations.length > 0) throw new Error('toRuntimeConfig needs a valid environment');
  const v = env.values as Record<string, string | undefined>;
  const str = (name: string): string => v[name] ?? '';
  const int = (name: string): number => Number(v[name]);
  const bool = (name: string): boolean => v[name] === 'true';
  const bind = str('RUNTIME_BIND_ADDR');
  const colon = bind.lastIndexOf(':');
  const classes = Object.fromEntries(
    Object.entries(CLASS_ENV_PREFIX).map(([cls, prefix]) => [
      cls,
      {
        replayBudgetEvents: int(`${prefix}_REPLAY_BUDGET_EVENTS`),
        retentionEvents: int(`${prefix}_RETENTION_EVENTS`),
        maxPayloadBytes: int(`${prefix}_MAX_PAYLOAD_BYTES`),
        publishRatePerSecond: int(`${prefix}_PUBLISH_RATE_PER_SECOND`),
      },
    ]),
  ) as Record<TopicClass, TopicClassLimits>;
  return {
    profile: env.profile,
    serviceName: str('RUNTIME_SERVICE_NAME'),
    buildSha: str('RUNTIME_BUILD_SHA'),
    instanceId: str('RUNTIME_INSTANCE_ID'),
    writeMode: str('RUNTIME_AUTHORITY_WRITE_MODE') as AuthorityWriteMode,
    bindHost: bind.slice(0, colon).replace(/^\[|\]$/g, ''),
    bindPort: Number(bind.slice(colon + 1)),
    dataDir: str('RUNTIME_DATA_DIR'),
    databaseUrl: v.DATABASE_URL,
    migrateOnStart: bool('RUNTIME_MIGRATE_ON_START'),
    internalToken: str('RUNTIME_INTERNAL_TOKEN'),
    sync: {
      signingKey: str('RUNTIME_SYNC_TOKEN_SIGNING_KEY'),
      issuer: str('RUNTIME_SYNC_TOKEN_ISSUER'),
      audience: str('RUNTIME_SYNC_TOKEN_AUDIENCE'),
      revokedJtis: new Set(str('RUNTIME_SYNC_REVOKED_JTIS').split(',').filter(Boolean)),
      requireJti: bool('RUNTIME_SYNC_TOKEN_REQUIRE_JTI'),
      maxAgeSeconds: int('RUNTIME_SYNC_TOKEN_MAX_AGE_SECONDS'),
    },
    khala: {
      enforceOrigin: bool('RUNTIME_KHALA_ENFORCE_ORIGIN'),
      allowedOrigins: new Set(str('RUNTIME_KHALA_ALLOWED_ORIGINS').split(',').filter(Boolean).map(normalizeOrigin)),
      heartbeatMs: int('RUNTIME_KHALA_HEARTBEAT_MS'),
      maxFrameBytes: int('RUNTIME_KHALA_MAX_FRAME_BYTES'),
      maxTopicsPerSocket: int('RUNTIME_KHALA_MAX_TOPICS_PER_SOCKET'),
      maxSocketsPerPrincipal: int('RUNTIME_KHALA_MAX_SOCKETS_PER_PRINCIPAL'),
      slowConsumerMaxBufferedBytes: int('RUNTIME_KHALA_SLOW_CONSUMER_MAX_BUFFERED_BYTES'),
      fallbackPollMs: int('RUNTIME_KHALA_FALLBACK_POLL_MS'),
      classes,
    },
    http: { bodyLimitBytes: int('RUNTIME_HTTP_BODY_LIMIT_BYTES') },
    credit: {
      paymentBackend: str('RUNTIME_PAYMENT_BACKEND') as 'simulated',
      policy: {
        maxSatsPerEnvelope: int('RUNTIME_CREDIT_MAX_SATS_PER_ENVELOPE'),
        maxOutstandingEnvelopesPerAgent: int('RUNTIME_CREDIT_MAX_OUTSTANDING_ENVELOPES_PER_AGENT'),
        maxOfferTtlSeconds: int('RUNTIME_CREDIT_MAX_OFFER_TTL_SECONDS'),
        minSample: int('RUNTIME_CREDIT_MIN_SAMPLE'),
        lossRateHaltThreshold: Number(v.RUNTIME_CREDIT_LOSS_RATE_HALT_THRESHOLD),
        lnFailureRateHaltThreshold: Number(v.RUNTIME_CREDIT_LN_FAILURE_RATE_HALT_THRESHOLD),
        largeSettlementSats: int('RUNTIME_CREDIT_LARGE_SETTLEMENT_SATS'),
        healthWindowSeconds: int('RUNTIME_CREDIT_HEALTH_WINDOW_SECONDS'),
      },
    },
    db: { poolMax: int('RUNTIME_DB_POOL_MAX'), statementTimeoutMs: int('RUNTIME_DB_STATEMENT_TIMEOUT_MS') },
    auditLogging: bool('ENABLE_AUDIT_LOGGING'),
    logLevel: str('LOG_LEVEL'),
    configFingerprint: env.configFingerprint,
  };
}
