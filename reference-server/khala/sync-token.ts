/**
 * Khala sync tokens (SPEC §2.2): HS256 JWTs signed with the UTF-8 bytes of
 * RUNTIME_SYNC_TOKEN_SIGNING_KEY. Verification runs the checks in the contract's
 * order and reports the first failure as one deterministic reason code.
 *
 * @see contracts/khala.asyncapi.yaml (HandshakeDenyReasonCode)
 */

import { randomUUID } from 'node:crypto';
import { compactVerify, SignJWT } from 'jose';
import type { HandshakeDenyReasonCode, SyncTokenClaims } from '../../contracts/generated/khala-frames.ts';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import { readBearerToken } from '../http/internal-auth.ts';

/** Clock tolerance for exp, nbf and iat (SPEC §2.2). */
export const CLOCK_TOLERANCE_SECONDS = 30;

export type TokenDenyReason = Exclude<HandshakeDenyReasonCode, 'origin_not_allowed'>;

export type TokenVerification = { ok: true; claims: SyncTokenClaims } | { ok: false; reason: TokenDenyReason; message: string };

export interface TokenRevocations {
  /** True when the token's jti, session or device was revoked. */
  isRevoked(claims: SyncTokenClaims): Promise<boolean>;
}

export interface MintSyncTokenRequest {
  sub: string;
  scopes: string[];
  ttl_seconds: number;
  session_id?: string;
  device_id?: string;
}

export async function mintSyncToken(config: RuntimeConfig['sync'], request: MintSyncTokenRequest, now = Date.now()): Promise<{ token: string; expires_at: string }> {
  const iat = Math.floor(now / 1000);
  const exp = iat + request.ttl_seconds;
  const jwt = new SignJWT({
    scopes: request.scopes,
    ...(request.session_id ? { sid: request.session_id } : {}),
    ...(request.device_id ? { did: request.device_id } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setSubject(request.sub)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp);
  return { token: await jwt.sign(new TextEncoder().encode(config.signingKey)), expires_at: new Date(exp * 1000).toISOString() };
}

/** Extracts the sync token: `Authorization: Bearer` wins over the `access_token` query parameter (browsers). */
export function readSyncToken(authorization: string | undefined, accessToken: string | null | undefined): { token?: string; reason?: TokenDenyReason } {
  if (authorization !== undefined && authorization !== '') return readBearerToken(authorization);
  if (accessToken) return { token: accessToken };
  return { reason: 'missing_authorization' };
}

function deny(reason: TokenDenyReason, message: string): TokenVerification {
  return { ok: false, reason, message };
}

/** Verifies a sync token; the first failing check in contract order is the reason. */
export async function verifySyncToken(
  token: string,
  config: RuntimeConfig['sync'],
  revocations: TokenRevocations,
  now = Date.now(),
): Promise<TokenVerification> {
  let payload: Record<string, unknown>;
  try {
    const verified = await compactVerify(token, new TextEncoder().encode(config.signingKey), { algorithms: ['HS256'] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new Error('claims are not an object');
  } catch {
    return deny('invalid_token', 'the token is malformed or its signature is not valid');
  }
  const audience = payload.aud;
  const audienceOk = audience === config.audience || (Array.isArray(audience) && audience.includes(config.audience));
  if (payload.iss !== config.issuer || !audienceOk) return deny('invalid_token', 'the token has the wrong issuer or audience');
  if (typeof payload.sub !== 'string' || payload.sub === '') return deny('invalid_token', 'the token has no subject');
  if (payload.scopes !== undefined && !(Array.isArray(payload.scopes) && payload.scopes.every((s) => typeof s === 'string'))) {
    return deny('invalid_token', 'scopes must be an array of strings');
  }
  const nowSeconds = now / 1000;
  if (typeof payload.exp !== 'number') return deny('invalid_token', 'the token has no exp');
  if (payload.exp + CLOCK_TOLERANCE_SECONDS <= nowSeconds) return deny('token_expired', 'the token has expired');
  if (typeof payload.nbf === 'number' && payload.nbf - CLOCK_TOLERANCE_SECONDS > nowSeconds) return deny('token_not_yet_valid', 'the token is not valid yet');
  if (config.requireJti && (typeof payload.jti !== 'string' || payload.jti === '')) return deny('missing_jti', 'the token has no jti');
  if (typeof payload.iat !== 'number') return deny('missing_iat', 'the token has no iat');
  if (nowSeconds - payload.iat > config.maxAgeSeconds + CLOCK_TOLERANCE_SECONDS) return deny('token_too_old', `the token was issued more than ${config.maxAgeSeconds} s ago`);
  const claims = { ...payload, scopes: (payload.scopes as string[] | undefined) ?? [] } as SyncTokenClaims;
  if ((typeof claims.jti === 'string' && config.revokedJtis.has(claims.jti)) || (await revocations.isRevoked(claims))) {
    return deny('token_revoked', 'the token, its session or its device was revoked');
  }
  return { ok: true, claims };
}
