/**
 * The harness's HTTP client for one target: every request has a deadline, redirects
 * are never followed (a redirect is an answer to check, not a hop off the target's
 * host), bodies are read up to a cap, and every exchange is recorded so the contract
 * lane can validate everything any lane saw. A transport failure is reported with its
 * cause (ECONNREFUSED, ECONNRESET, a TLS code), and a large upload that the target
 * answers early is reported by that answer, not by the reset that may follow it.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { TargetSpec } from './target.ts';

/** Response bodies above this are truncated (and recorded as such). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Request bodies above this are uploaded by sendPaced (node:http, chunk by chunk) rather
 * than fetch: a server may answer before it has read the body (413 on the declared length)
 * and close the connection under the upload; fetch then fails on its write (EPIPE /
 * ECONNRESET) and drops the answer it was sent, where sendPaced reads it.
 */
export const PACED_UPLOAD_THRESHOLD_BYTES = 64 * 1024;
const UPLOAD_CHUNK_BYTES = 64 * 1024;
/** Error codes of a connection the peer closed or reset. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

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
  /** The answer's headers (lowercase names), so the contract lane can judge declared response headers. */
  headers?: Record<string, string>;
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

/** A request that got no answer; `connectFailed` when no connection to the target could be made at all. */
export class TargetRequestError extends Error {
  override readonly name = 'TargetRequestError';
  constructor(
    message: string,
    readonly details: { code?: string; timedOut: boolean; connectFailed: boolean } = { timedOut: false, connectFailed: false },
  ) {
    super(message);
  }
}

/**
 * Codes of a connection that was never made (nothing listens, no route, no such host, a
 * certificate the client refuses): the target was not reached, as opposed to a target that
 * answered and then broke the connection.
 */
const CONNECT_FAILURE_CODES = /^(BAD_PORT|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|EAI_AGAIN|EADDRNOTAVAIL|UND_ERR_CONNECT_TIMEOUT|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_SSL_.*|EPROTO)$/;

/** The code of the innermost error of a cause chain that has one (`ECONNREFUSED`, a TLS code…). */
export function transportErrorCode(error: unknown): string | undefined {
  let code: string | undefined;
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    code = errorCode(current) ?? (current instanceof AggregateError ? errorCode(current.errors[0]) : undefined) ?? code;
  }
  return code;
}

/** A size for messages: `900 B`, `512 KiB`, `2 MiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / (1024 * 1024), 'MiB'];
  return `${Number(value.toFixed(1))} ${unit}`;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** `CODE (message)`, or only the code when the message says nothing more (`read ECONNRESET`). */
function describeOne(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  // One connection attempt per address (Node's happy eyeballs): each one says where it failed.
  if (error instanceof AggregateError && error.errors.length > 0) {
    const members = [...new Set(error.errors.map((member) => (member instanceof Error ? member.message : String(member))))];
    return `${code ?? errorCode(error.errors[0]) ?? 'AggregateError'} (${members.join('; ')})`;
  }
  if (!code) return message;
  const syscall = (error as { syscall?: unknown }).syscall;
  if (message === '' || message === code || message === `${String(syscall)} ${code}`) return code;
  return `${code} (${message})`;
}

/**
 * What went wrong on the wire, named by its cause: fetch rejects with a bare `fetch
 * failed` and puts the real error (`connect ECONNREFUSED 127.0.0.1:9`, a TLS
 * verification code, `other side closed`) in `error.cause`. The innermost error with a
 * code describes it, e.g. `ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:9)`,
 * `DEPTH_ZERO_SELF_SIGNED_CERT (self-signed certificate)`, `ECONNRESET`.
 */
export function describeTransportError(error: unknown): string {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 8 && !chain.includes(current); current = (current as { cause?: unknown }).cause) {
    chain.push(current);
  }
  if (chain.length === 0) return String(error);
  const coded = chain.findLast((link) => errorCode(link) !== undefined || (link instanceof AggregateError && link.errors.length > 0));
  const described = describeOne(coded ?? chain.at(-1)).replace(/\s*\n\s*/g, ' ').trim();
  // undici refuses the ports the fetch standard blocks (e.g. 10080, 6000) before connecting.
  return described === 'bad port' ? 'bad port: fetch refuses to connect to this port (ports blocked by the WHATWG fetch standard); serve the target on another port' : described;
}

/** A failed paced upload, already described (sendPaced). */
class UploadError extends Error {}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  truncated: boolean;
}

type WriteCallback = (error?: Error | null) => void;

/**
 * Node destroys a socket on a write error, and with it whatever the peer sent that is
 * still unread in the kernel's receive buffer. A server that answers early and then
 * closes under the upload resets the connection, so the write fails (EPIPE, ECONNRESET)
 * while its answer sits unread. Here those write errors are reported to `onUploadError`
 * instead of failing the socket: the read side goes on, reads the answer if there is one,
 * then the end of the connection (which fails the request if there was no answer).
 */
function keepReadingAfterWriteReset(socket: net.Socket, onUploadError: (error: Error) => void): net.Socket {
  const tolerant =
    (callback: WriteCallback): WriteCallback =>
    (error) => {
      if (error && RESET_CODES.has(errorCode(error) ?? '')) {
        onUploadError(error);
        callback();
      } else callback(error);
    };
  const write = socket._write;
  socket._write = (chunk, encoding, callback) => write.call(socket, chunk, encoding, tolerant(callback));
  const writev = socket._writev;
  if (writev) socket._writev = (chunks, callback) => writev.call(socket, chunks, tolerant(callback));
  return socket;
}

/** A connection of its own for one paced upload (no agent: it is closed when the answer has been read). */
function connectFor(url: URL): net.Socket {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const tlsTarget = url.protocol === 'https:';
  const port = Number(url.port || (tlsTarget ? 443 : 80));
  return tlsTarget ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'] }) : net.connect({ host, port });
}

/**
 * Sends `body` in chunks, each after the socket took the one before ('drain') and the
 * event loop had a turn, so an answer that arrives mid-upload is read as soon as it comes.
 * An error answer, or one that closes the connection, ends the upload (RFC 9112 §9.6: the
 * client ceases transmitting); any other lets it go on. Once an answer has arrived it is
 * what this resolves to, even if the upload then fails with EPIPE or ECONNRESET. Redirects
 * are not followed; the answer's body is read up to MAX_BODY_BYTES.
 */
function sendPaced(url: URL, method: string, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let offset = 0;
    let uploaded = 0;
    let uploadError: Error | undefined;
    let answered = false;
    let stopUpload = false;
    let settled = false;
    let turn: NodeJS.Immediate | undefined;
    const createConnection = () =>
      keepReadingAfterWriteReset(connectFor(url), (error) => {
        uploadError ??= error;
        stopUpload = true;
      });
    const options = { method, headers: { ...headers, 'content-length': String(body.length) }, createConnection };
    const req = url.protocol === 'https:' ? https.request(url, options) : http.request(url, options);
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      if (turn) clearImmediate(turn);
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      finish();
    };
    const onAbort = () => settle(() => reject(new UploadError('aborted')));
    const pump = () => {
      turn = undefined;
      if (settled || stopUpload) return;
      const chunk = body.subarray(offset, offset + UPLOAD_CHUNK_BYTES);
      offset += chunk.length;
      const counted = (error?: Error | null) => {
        if (!error && !uploadError) uploaded += chunk.length;
      };
      if (offset >= body.length) {
        // The last chunk goes with the end of the request: no write after it.
        req.end(chunk, counted);
        return;
      }
      if (req.write(chunk, counted)) turn = setImmediate(pump);
      else
        req.once('drain', () => {
          if (!settled) turn = setImmediate(pump);
        });
    };

    req.on('response', (res) => {
      answered = true;
      if ((res.statusCode ?? 0) >= 400 || /(^|,)\s*close\s*(,|$)/i.test(res.headers.connection ?? '')) stopUpload = true;
      const answer = (chunks: Buffer[], truncated: boolean): Answer => {
        const responseHeaders = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          try {
            responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          } catch {
            // A header fetch's Headers would refuse too; the rest of the answer still counts.
          }
        }
        return { status: res.statusCode ?? 0, headers: responseHeaders, text: Buffer.concat(chunks).toString('utf8'), truncated };
      };
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          chunks.push(chunk.subarray(0, chunk.length - (size - MAX_BODY_BYTES)));
          settle(() => resolve(answer(chunks, true)));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => settle(() => resolve(answer(chunks, false))));
      // The connection going away after the whole answer arrived is no failure: 'end' follows.
      const cut = (error?: Error) => {
        if (settled || res.complete) return;
        const cause = error ? describeTransportError(error) : 'ECONNRESET';
        settle(() => reject(new UploadError(`${cause}: the connection closed after ${formatBytes(size)} of the ${res.statusCode} answer`, { cause: error })));
      };
      res.on('error', cut);
      res.on('close', () => cut());
    });
    req.on('error', (error) => {
      // Once answered, the answer decides: its end resolves, its loss rejects (above).
      if (answered) return;
      const cause = uploadError ?? error;
      const code = errorCode(cause) ?? errorCode((cause as { cause?: unknown }).cause);
      const message =
        code && RESET_CODES.has(code)
          ? `${code} after ${formatBytes(uploaded)} of ${formatBytes(body.length)} uploaded (the server closed the connection without an answer)`
          : describeTransportError(error);
      settle(() => reject(new UploadError(message, { cause: error })));
    });
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      pump();
    }
  });
}

/** The exchange through fetch (bodies up to PACED_UPLOAD_THRESHOLD_BYTES). */
async function sendFetch(url: string, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<Answer> {
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), redirect: 'manual', signal });
  const { text, truncated } = await readCapped(response);
  return { status: response.status, headers: response.headers, text, truncated };
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
      const url = `${this.target.base_url}${request.path}`;
      const response =
        body !== undefined && Buffer.byteLength(body) > PACED_UPLOAD_THRESHOLD_BYTES
          ? await sendPaced(new URL(url), request.method, headers, Buffer.from(body), signal)
          : await sendFetch(url, request.method, headers, body, signal);
      const { text, truncated } = response;
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
      // A body cut at the cap cannot be judged (the contract lane fails it for its size): it is not kept, so a run
      // against a target that answers gigantic bodies holds no 8 MiB copy per request.
      Object.assign(exchange, { status: response.status, content_type: contentType, body: truncated ? undefined : (json ?? text), truncated, duration_ms: durationMs, headers: Object.fromEntries(response.headers) });
      this.exchanges.push(exchange);
      this.log(`${request.method} ${request.path} → ${response.status} (${durationMs} ms) ${text.slice(0, 400).replace(/\s+/g, ' ')}`);
      return { status: response.status, headers: response.headers, text, json, durationMs };
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      const reason = signal.aborted ? `no answer within the deadline (${durationMs} ms)` : error instanceof UploadError ? error.message : describeTransportError(error);
      Object.assign(exchange, { error: reason, duration_ms: durationMs });
      this.exchanges.push(exchange);
      this.log(`${request.method} ${request.path} → ${reason}`);
      const code = signal.aborted ? undefined : (transportErrorCode(error) ?? (reason.startsWith('bad port') ? 'BAD_PORT' : undefined));
      throw new TargetRequestError(`${request.method} ${request.path}: ${reason}`, {
        ...(code ? { code } : {}),
        timedOut: signal.aborted,
        connectFailed: code !== undefined && CONNECT_FAILURE_CODES.test(code),
      });
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', abortWithCheck);
    }
  }
}
