/**
 * The one error registry of the HTTP API (STYLE 6): every error code of the
 * contract's ErrorCode enum with its HTTP status. Handlers throw ApiError; the
 * server's error handler turns it into the `{"error":{code,message,details}}` envelope.
 */
import type { components } from '../../contracts/generated/runtime-api.ts';

export type ErrorCode = components['schemas']['ErrorCode'];

export const ERROR_STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  invalid_request: 400,
  not_found: 404,
  conflict: 409,
  stale_cursor: 410,
  rate_limited: 429,
  payload_too_large: 413,
  write_path_frozen: 503,
  dependency_unavailable: 503,
  internal_error: 500,
};

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
    /** Overrides the registry status where the contract documents another one (credit breakers: 502 dependency_unavailable). */
    status?: number,
  ) {
    super(message);
    this.status = status ?? ERROR_STATUS[code];
  }
}

export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];

export function errorEnvelope(code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorEnvelope {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
