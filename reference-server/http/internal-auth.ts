/**
 * Bearer auth for /internal/v1/* (SPEC §2.1): the RUNTIME_INTERNAL_TOKEN compared in
 * constant time (both sides hashed first so the comparison length never varies).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './api-error.ts';

/** Extracts the token of an `Authorization: Bearer <token>` header, naming why it could not. */
export function readBearerToken(header: string | undefined): { token?: string; reason?: 'missing_authorization' | 'invalid_authorization_scheme' } {
  if (!header) return { reason: 'missing_authorization' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return { reason: 'invalid_authorization_scheme' };
  return { token: match[1]! };
}

export function createInternalBearerCheck(expectedToken: string): (request: FastifyRequest) => void {
  const expectedDigest = createHash('sha256').update(expectedToken).digest();
  return (request) => {
    const { token, reason } = readBearerToken(request.headers.authorization);
    if (!token) throw new ApiError('unauthorized', 'a bearer token is required', { reason_code: reason });
    const digest = createHash('sha256').update(token).digest();
    if (!timingSafeEqual(digest, expectedDigest)) {
      throw new ApiError('unauthorized', 'the bearer token is not valid', { reason_code: 'invalid_token' });
    }
  };
}
