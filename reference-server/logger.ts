/**
 * pino logger of the reference server: JSON, one line per event, secrets redacted by
 * fixed paths (STYLE 14). The destination is injectable so tests can read the lines.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.authorization',
  '*.token',
  '*.password',
  '*.signing_key',
  '*.internal_token',
  '*.database_url',
  'config.internalToken',
  'config.sync.signingKey',
  'config.databaseUrl',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'runtime-gate-reference' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Strips credentials that browsers must put in the query string (`access_token`) from a logged URL. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_token|token)=)[^&#]*/gi, '$1[redacted]');
}

/** Masks the password of a postgres:// URL for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/(postgres(?:ql)?:\/\/[^:/@]+:)[^@]*@/i, '$1[redacted]@');
}
