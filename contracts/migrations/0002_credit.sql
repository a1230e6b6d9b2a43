-- 0002_credit: Credit Envelope Protocol (CEP) MVP-1 (SPEC §3.4).
-- Forward-only. Ids are deterministic (cepi_/cepo_/cepe_/ceps_ + 24 hex of a sha256
-- fingerprint), so primary keys are what make concurrent identical writes collapse into
-- one row; request_fingerprint is the sha256 of the canonical JSON of the fields that
-- define the request, compared on replay (equal: the stored row; different: 409).

-- One row per (agent_id, idempotency_key); intent_id = cepi_ + sha256(agent_id:key)[0:24].
CREATE TABLE runtime.credit_intents (
  intent_id            text PRIMARY KEY CHECK (intent_id ~ '^cepi_[0-9a-f]{24}$'),
  agent_id             text NOT NULL,
  idempotency_key      text NOT NULL,
  request_fingerprint  text NOT NULL,
  scope_type           text NOT NULL CHECK (scope_type = 'nip90'),
  scope_id             text NOT NULL,
  max_sats             bigint NOT NULL CHECK (max_sats >= 1),
  exp                  timestamptz NOT NULL,
  policy_context       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT credit_intents_agent_key_uniq UNIQUE (agent_id, idempotency_key)
);

-- offer_id = cepo_ + sha256(request fingerprint)[0:24]: the same request is the same row.
CREATE TABLE runtime.credit_offers (
  offer_id             text PRIMARY KEY CHECK (offer_id ~ '^cepo_[0-9a-f]{24}$'),
  request_fingerprint  text NOT NULL,
  agent_id             text NOT NULL,
  pool_id              text NOT NULL,
  intent_id            text REFERENCES runtime.credit_intents (intent_id),
  scope_type           text NOT NULL CHECK (scope_type = 'nip90'),
  scope_id             text NOT NULL,
  max_sats             bigint NOT NULL CHECK (max_sats >= 1),
  fee_bps              integer NOT NULL CHECK (fee_bps BETWEEN 0 AND 100000),
  requires_verifier    boolean NOT NULL,
  exp                  timestamptz NOT NULL,
  status               text NOT NULL DEFAULT 'offered'
                       CHECK (status IN ('offered', 'accepted', 'expired', 'revoked')),
  issued_at            timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_offers_agent_idx ON runtime.credit_offers (agent_id, issued_at);

-- Per-agent serialization point: an envelope write locks its agent's row, so the
-- outstanding-envelope cap cannot be overrun by concurrent envelopes for one agent.
CREATE TABLE runtime.credit_agents (
  agent_id    text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- envelope_id = cepe_ + sha256({offer_id, provider_id})[0:24]. An offer is consumed by at
-- most one envelope (unique offer_id), whatever the provider.
CREATE TABLE runtime.credit_envelopes (
  envelope_id  text PRIMARY KEY CHECK (envelope_id ~ '^cepe_[0-9a-f]{24}$'),
  offer_id     text NOT NULL REFERENCES runtime.credit_offers (offer_id),
  agent_id     text NOT NULL REFERENCES runtime.credit_agents (agent_id),
  pool_id      text NOT NULL,
  provider_id  text NOT NULL,
  scope_type   text NOT NULL CHECK (scope_type = 'nip90'),
  scope_id     text NOT NULL,
  max_sats     bigint NOT NULL CHECK (max_sats >= 1),
  fee_bps      integer NOT NULL CHECK (fee_bps BETWEEN 0 AND 100000),
  exp          timestamptz NOT NULL,
  status       text NOT NULL DEFAULT 'issued'
               CHECK (status IN ('issued', 'settled', 'expired', 'defaulted', 'failed')),
  issued_at    timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT credit_envelopes_offer_uniq UNIQUE (offer_id)
);
CREATE INDEX credit_envelopes_open_idx ON runtime.credit_envelopes (agent_id, exp) WHERE status = 'issued';

-- settlement_id = ceps_ + sha256({envelope_id})[0:24]: one settlement per envelope.
-- payment_status is set when the payment backend was asked to pay (LN attempts).
CREATE TABLE runtime.credit_settlements (
  settlement_id                text PRIMARY KEY CHECK (settlement_id ~ '^ceps_[0-9a-f]{24}$'),
  envelope_id                  text NOT NULL REFERENCES runtime.credit_envelopes (envelope_id),
  agent_id                     text NOT NULL,
  request_fingerprint          text NOT NULL,
  outcome                      text NOT NULL CHECK (outcome IN ('success', 'failed', 'expired', 'defaulted')),
  spent_sats                   bigint NOT NULL CHECK (spent_sats >= 0),
  fee_sats                     bigint NOT NULL CHECK (fee_sats >= 0),
  verification_passed          boolean NOT NULL,
  verification_receipt_sha256  text NOT NULL,
  provider_invoice             text NOT NULL,
  provider_host                text NOT NULL,
  max_fee_msats                bigint NOT NULL CHECK (max_fee_msats >= 0),
  policy_context               jsonb NOT NULL DEFAULT '{}'::jsonb,
  payment_backend              text,
  payment_status               text CHECK (payment_status IN ('paid', 'failed')),
  liquidity_receipt            jsonb,
  liquidity_receipt_sha256     text,
  settled_at                   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT credit_settlements_envelope_uniq UNIQUE (envelope_id),
  CONSTRAINT credit_settlements_payment_ck CHECK ((payment_status IS NULL) = (liquidity_receipt_sha256 IS NULL))
);
CREATE INDEX credit_settlements_settled_at_idx ON runtime.credit_settlements (settled_at);
CREATE INDEX credit_settlements_agent_idx ON runtime.credit_settlements (agent_id, settled_at);

-- Receipts of envelope issuance and settlement; sha256 is the hex sha256 of the RFC 8785
-- canonical JSON of body. Written in the same transaction as their subject.
CREATE TABLE runtime.credit_receipts (
  receipt_id  text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('envelope_issued', 'settlement')),
  subject_id  text NOT NULL,
  sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  body        jsonb NOT NULL,
  issued_at   timestamptz NOT NULL,
  CONSTRAINT credit_receipts_subject_uniq UNIQUE (kind, subject_id)
);
