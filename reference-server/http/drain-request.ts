/**
 * Lingering read of a request body the server will not use. When the server refuses a
 * request before reading its whole body (413 on the declared length, 400 mid-body) and
 * the answer closes the connection, a client still uploading would otherwise be reset:
 * Node closes the socket with unread bytes in it, the kernel sends RST, and the client
 * loses the answer along with the upload (EPIPE / ECONNRESET). Reading the rest of the
 * body first, and discarding it, lets the client finish its upload and read the answer,
 * as nginx's lingering close does. The read is bounded in bytes and in time; beyond the
 * bound the connection is closed as before. Nothing is buffered: chunks are only counted.
 */
import type { IncomingMessage } from 'node:http';

export interface DrainLimits {
  /** Body bytes read and discarded at most; a declared Content-Length above it is not read at all. */
  maxBytes: number;
  /** How long the rest of the body may take to arrive. */
  maxMs: number;
}

/** 16 MiB within 5 s: a few times the default 1 MiB body limit, and quick to give up on a trickle. */
export const DRAIN_LIMITS: DrainLimits = { maxBytes: 16 * 1024 * 1024, maxMs: 5_000 };

export interface DrainResult {
  /** `complete`: the whole body arrived; otherwise why the read stopped. */
  outcome: 'complete' | 'too_large' | 'timeout' | 'closed';
  /** Bytes read and discarded. */
  bytes: number;
}

/**
 * Reads and discards what is left of `request`'s body, resolving when it has all arrived
 * or a bound is reached. Past a bound the request stays flowing with no listener, so
 * anything more is still discarded until the connection closes.
 */
export function drainRequestBody(request: IncomingMessage, limits: DrainLimits = DRAIN_LIMITS): Promise<DrainResult> {
  if (request.complete) return Promise.resolve({ outcome: 'complete', bytes: 0 });
  if (request.destroyed || request.socket?.destroyed) return Promise.resolve({ outcome: 'closed', bytes: 0 });
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) return Promise.resolve({ outcome: 'too_large', bytes: 0 });
  return new Promise((resolve) => {
    let bytes = 0;
    const finish = (outcome: DrainResult['outcome']) => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onClose);
      request.off('error', onClose);
      resolve({ outcome, bytes });
    };
    const onData = (chunk: Buffer | string) => {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) finish('too_large');
    };
    const onEnd = () => finish('complete');
    const onClose = () => finish(request.complete ? 'complete' : 'closed');
    const timer = setTimeout(() => finish('timeout'), limits.maxMs);
    timer.unref();
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onClose);
    request.once('error', onClose);
    request.resume();
  });
}
