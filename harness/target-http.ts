/**
 * The harness's HTTP client for one target: every request has a deadline, redirects
 * are never followed (a redirect is an answer to check, not a hop off the target's
 * host), bodies are read up to a cap, and every exchange is recorded so the contract
 * lane can validate everything any lane saw.
 */
import type { TargetSpec } from './target.ts';

/** Response bodies above this are truncated (and recorded as such). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface Exchange {
  check_id: string;
  target: string;
  method: string;
  path: string;
  status: number;
  content_type: string;
  body: unknown;
  truncated: boolean;
  duration_ms: number;
  /** Set when the request never got an answer (timeout, refused, reset). */
  error?: string;
}

export interface HttpRequest {
  method: string;
  path: string;
  /** JSON body; serialized with content-type application/json. */
  body?: unknown;
  /** Raw body text, sent as given. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Which credential to send: the internal token (default for /internal/), a sync token, or none. */
  auth?: 'internal' | 'none' | { bearer: string };
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON when the body is JSON, otherwise undefined. */
  json: any;
  durationMs: number;
}

export class TargetRequestError extends Error {
  override readonly name = 'TargetRequestError';
}

async function readCapped(response: Response): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      chunks.push(value.subarray(0, value.byteLength - (size - MAX_BODY_BYTES)));
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

export class TargetHttp {
  constructor(
    readonly target: TargetSpec,
    private readonly exchanges: Exchange[],
    private readonly checkId: string,
    private readonly signal: AbortSignal,
    private readonly log: (line: string) => void,
    private readonly defaultTimeoutMs = 10_000,
  ) {}

  /** The same client (deadline, log, recorded exchanges) for another instance of the target (K9 node_urls). */
  forBaseUrl(baseUrl: string): TargetHttp {
    return new TargetHttp({ ...this.target, base_url: baseUrl.replace(/\/+$/, '') }, this.exchanges, this.checkId, this.signal, this.log, this.defaultTimeoutMs);
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...(this.target.headers ?? {}), ...(request.headers ?? {}) };
    const auth = request.auth ?? (request.path.startsWith('/internal/') ? 'internal' : 'none');
    if (auth === 'internal' && this.target.internal_token) headers.authorization = `Bearer ${this.target.internal_token}`;
    else if (typeof auth === 'object') headers.authorization = `Bearer ${auth.bearer}`;
    let body: string | undefined = request.rawBody;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] ??= 'application/json';
    }
    const started = performance.now();
    // A strongly held timer, not AbortSignal.timeout inside AbortSignal.any: on Node 20 the
    // garbage collector may collect that pair and the deadline then never fires.
    const deadline = new AbortController();
    const signal = deadline.signal;
    const timer = setTimeout(() => deadline.abort(), request.timeoutMs ?? this.defaultTimeoutMs);
    const abortWithCheck = () => deadline.abort();
    if (this.signal.aborted) deadline.abort();
    else this.signal.addEventListener('abort', abortWithCheck, { once: true });
    const exchange: Exchange = { check_id: this.checkId, target: this.target.name, method: request.method, path: request.path, status: 0, content_type: '', body: undefined, truncated: false, duration_ms: 0 };
    try {
      const response = await fetch(`${this.target.base_url}${request.path}`, { method: request.method, headers, ...(body === undefined ? {} : { body }), redirect: 'manual', signal });
      const { text, truncated } = await readCapped(response);
      const contentType = response.headers.get('content-type') ?? '';
      let json: unknown;
      if (contentType.includes('json')) {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      const durationMs = Math.round(performance.now() - started);
      Object.assign(exchange, { status: response.status, content_type: contentType, body: json ?? text, truncated, duration_ms: durationMs });
      this.exchanges.push(exchange);
      this.log(`${request.method} ${request.path} → ${response.status} (${durationMs} ms) ${text.slice(0, 400).replace(/\s+/g, ' ')}`);
      return { status: response.status, headers: response.headers, text, json, durationMs };
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      const reason = signal.aborted ? `no answer within the deadline (${durationMs} ms)` : (error as Error).message;
      Object.assign(exchange, { error: reason, duration_ms: durationMs });
      this.exchanges.push(exchange);
      this.log(`${request.method} ${request.path} → ${reason}`);
      throw new TargetRequestError(`${request.method} ${request.path}: ${reason}`);
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', abortWithCheck);
    }
  }
}
