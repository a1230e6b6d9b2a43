/**
 * A server that answers before it has read a large request body (413 on the declared
 * length) and closes the connection. The reference server reads and discards the rest of
 * the body first, within a bound (reference-server/http/drain-request.ts), so the client
 * still uploading reads the answer instead of a reset; the harness reports the answer it
 * got even when its upload then fails (harness/target-http.ts, sendPaced); and every
 * transport failure names its cause (ECONNRESET, ECONNREFUSED, a TLS code), never a bare
 * `fetch failed`. Every server listens on 127.0.0.1 port 0.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApiContract } from '../../contracts/openapi-operations.ts';
import { negativeRequests } from '../../harness/contract/negative-inputs.ts';
import { describeTransportError, type Exchange, PACED_UPLOAD_THRESHOLD_BYTES, TargetHttp } from '../../harness/target-http.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { DRAIN_LIMITS, type DrainResult, drainRequestBody } from '../../reference-server/http/drain-request.ts';
import { DEV_INTERNAL_TOKEN, startTestServer, type TestServer } from '../support/reference-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const MiB = 1024 * 1024;
const TOKEN_PATH = '/internal/v1/sync/token';

let db: TestDatabase;
let t: TestServer;
/** The contract lane's `oversize:$` body for mintSyncToken: 2 MiB against the default 1 MiB limit. */
let oversize: string;

beforeAll(async () => {
  db = await createTestDatabase('early_answer');
  await migrate(db.pool, { buildSha: 'dev' });
  t = await startTestServer(db, { LOG_LEVEL: 'info' });
  const contract = await loadOpenApiContract();
  oversize = negativeRequests(contract.operations.get('mintSyncToken')!, { now: new Date() }).find((c) => c.name === 'oversize:$')!.body;
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

function client(baseUrl: string, exchanges: Exchange[] = [], timeoutMs = 20_000): TargetHttp {
  return new TargetHttp({ name: 'early-answer', base_url: baseUrl, internal_token: DEV_INTERNAL_TOKEN }, exchanges, 'early-answer', new AbortController().signal, () => {}, timeoutMs);
}

/** Listens on 127.0.0.1 port 0; the returned close() also ends every open connection. */
async function listen(server: net.Server): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw TCP server handing each connection, once its request head has arrived, to `onHead` (the body is not read). */
function rawServer(onHead: (socket: net.Socket) => void): net.Server {
  return net.createServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    const onData = (data: Buffer) => {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      onHead(socket);
    };
    socket.on('data', onData);
  });
}

const PAYLOAD_TOO_LARGE = JSON.stringify({ error: { code: 'payload_too_large', message: 'too large' } });
const ANSWER_413 = `HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nContent-Length: ${PAYLOAD_TOO_LARGE.length}\r\nConnection: close\r\n\r\n${PAYLOAD_TOO_LARGE}`;

interface RawExchange {
  /** Everything the server sent. */
  received: string;
  /** Body bytes the socket took before the connection ended (or all of them). */
  written: number;
  /** The client socket's error, if any (EPIPE, ECONNRESET). */
  error?: string;
}

/**
 * A plain node:net client: sends `head`, then body chunks from `nextChunk` as fast as the
 * socket takes them (waiting for 'drain') until it returns undefined or the connection
 * ends, and reads everything the server sends.
 */
function rawExchange(port: number, head: string, nextChunk: (written: number) => Buffer | undefined): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let written = 0;
    let error: string | undefined;
    let ended = false;
    socket.on('data', (data) => received.push(data));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      ended = true;
      resolve({ received: Buffer.concat(received).toString('utf8'), written, ...(error ? { error } : {}) });
    });
    const pump = () => {
      while (!ended && !socket.destroyed) {
        const chunk = nextChunk(written);
        if (!chunk) return;
        const more = socket.write(chunk, (e) => {
          if (!e) written += chunk.length;
        });
        if (!more) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.once('connect', () => {
      socket.write(head);
      pump();
    });
  });
}

/** A `nextChunk` for rawExchange that sends `data` once. */
function once(data: Buffer): () => Buffer | undefined {
  let sent = false;
  return () => {
    if (sent) return undefined;
    sent = true;
    return data;
  };
}

function chunked(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
}

function requestHead(path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries({ host: '127.0.0.1', authorization: `Bearer ${DEV_INTERNAL_TOKEN}`, 'content-type': 'application/json', ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** The reference server's log line for a request whose body it stopped reading. */
function drainLogLines(): { drain_outcome: string; drained_bytes: number; status: number }[] {
  return t.logLines.map((line) => JSON.parse(line)).filter((entry) => entry.drain_outcome !== undefined);
}

describe('the reference server reads the rest of a refused body before it closes', () => {
  it('30 back-to-back 2 MiB uploads through TargetHttp each get 413 payload_too_large', async () => {
    expect(Buffer.byteLength(oversize)).toBeGreaterThan(2 * MiB);
    const exchanges: Exchange[] = [];
    const http = client(t.url, exchanges);
    const answers: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      const response = await http.request({ method: 'POST', path: TOKEN_PATH, rawBody: oversize, headers: { 'content-type': 'application/json' } });
      answers.push(`${response.status} ${response.json?.error?.code}`);
    }
    expect(answers).toEqual(Array(30).fill('413 payload_too_large'));
    expect(exchanges.map((e) => [e.status, e.error])).toEqual(Array(30).fill([413, undefined]));
  });

  it('30 uploads of 8 MiB through plain fetch from another thread each get the 413 (no reset mid-upload)', async () => {
    // A thread of its own: the server's close and the client's upload race as they do across processes.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const body = 'a'.repeat(8 * 1024 * 1024);
        const answers = [];
        for (let i = 0; i < 30; i += 1) {
          try {
            const response = await fetch(workerData.url, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer ' + workerData.token }, signal: AbortSignal.timeout(20000) });
            answers.push(response.status + ' ' + JSON.parse(await response.text()).error.code);
          } catch (error) {
            answers.push(error.message + ' ' + (error.cause && (error.cause.code || error.cause.message)));
          }
        }
        parentPort.postMessage(answers);
      })();`,
      { eval: true, workerData: { url: `${t.url}${TOKEN_PATH}`, token: DEV_INTERNAL_TOKEN } },
    );
    try {
      const answers = await new Promise<string[]>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(answers).toEqual(Array(30).fill('413 payload_too_large'));
    } finally {
      await worker.terminate();
    }
  });

  it.each([
    ['Content-Length', { 'content-length': 2 * MiB }, (b: Buffer) => b],
    ['chunked', { 'transfer-encoding': 'chunked' }, chunked],
  ] as const)('a raw node:net client writing the whole 2 MiB body (%s) then reading gets the 413', async (_name, headers, frame) => {
    const body = Buffer.alloc(2 * MiB, 'a');
    const chunks = Array.from({ length: 32 }, (_, i) => frame(body.subarray(i * 64 * 1024, (i + 1) * 64 * 1024)));
    if (frame === chunked) chunks.push(Buffer.from('0\r\n\r\n'));
    let next = 0;
    const result = await rawExchange(Number(new URL(t.url).port), requestHead(TOKEN_PATH, headers), () => chunks[next++]);
    expect(result.error, `the client's upload failed after ${result.written} bytes`).toBeUndefined();
    expect(result.written).toBe(chunks.reduce((sum, c) => sum + c.length, 0));
    expect(result.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.received).toMatch(/connection: close/i);
    expect(result.received).toContain('"payload_too_large"');
  });

  it.each([
    ['chunked, past the 16 MiB drain bound', { 'transfer-encoding': 'chunked' }, chunked, DRAIN_LIMITS.maxBytes],
    ['a declared Content-Length of 1 GiB, not read at all', { 'content-length': 1024 * MiB }, (b: Buffer) => b, 0],
  ] as const)('a client uploading far past the bound (%s) gets its connection closed; what the server read stays bounded', async (_name, headers, frame, maxDrained) => {
    const before = drainLogLines().length;
    const chunk = frame(Buffer.alloc(64 * 1024, 'a'));
    // The client would send 1 GiB; the server closes long before.
    const result = await rawExchange(Number(new URL(t.url).port), requestHead(TOKEN_PATH, headers), (written) => (written < 1024 * MiB ? chunk : undefined));
    expect(result.written).toBeLessThan(1024 * MiB);
    const logged = drainLogLines().slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ drain_outcome: 'too_large', status: 413 });
    // Counted, then dropped: at most the bound plus one chunk of 64 KiB.
    expect(logged[0]!.drained_bytes).toBeLessThanOrEqual(maxDrained + 64 * 1024 + 16);
  });
});

describe('drainRequestBody: bounded in bytes and in time, nothing kept', () => {
  /** A node:http server that drains each request with `limits` and answers with the outcome. */
  async function drainingServer(limits: { maxBytes: number; maxMs: number }) {
    const outcomes: DrainResult[] = [];
    const server = http.createServer(async (req, res) => {
      const result = await drainRequestBody(req, limits);
      outcomes.push(result);
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify(result));
    });
    return { outcomes, ...(await listen(server)) };
  }

  it('stops counting past maxBytes, however much the client sends', async () => {
    const server = await drainingServer({ maxBytes: 1 * MiB, maxMs: 60_000 });
    try {
      const chunk = chunked(Buffer.alloc(64 * 1024, 'a'));
      const result = await rawExchange(server.port, requestHead('/x', { 'transfer-encoding': 'chunked' }), (written) => (written < 1024 * MiB ? chunk : undefined));
      expect(result.written).toBeLessThan(1024 * MiB);
      expect(server.outcomes).toHaveLength(1);
      expect(server.outcomes[0]!.outcome).toBe('too_large');
      expect(server.outcomes[0]!.bytes).toBeGreaterThan(1 * MiB);
      expect(server.outcomes[0]!.bytes).toBeLessThanOrEqual(1 * MiB + 64 * 1024 + 16);
    } finally {
      await server.close();
    }
  });

  it('gives up on a body that stops arriving after maxMs, and answers', async () => {
    const server = await drainingServer({ maxBytes: 1 * MiB, maxMs: 50 });
    try {
      const result = await rawExchange(server.port, requestHead('/x', { 'content-length': 100_000 }), once(Buffer.alloc(1000, 'a')));
      expect(server.outcomes).toEqual([{ outcome: 'timeout', bytes: 1000 }]);
      expect(result.received).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      await server.close();
    }
  });

  it('reads a whole body within the bounds and says so', async () => {
    const server = await drainingServer(DRAIN_LIMITS);
    try {
      const body = Buffer.alloc(3 * MiB, 'a');
      const result = await rawExchange(server.port, requestHead('/x', { 'content-length': body.length }), once(body));
      expect(server.outcomes).toEqual([{ outcome: 'complete', bytes: 3 * MiB }]);
      expect(result.error).toBeUndefined();
      expect(result.received).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      await server.close();
    }
  });
});

describe('TargetHttp reports the answer it got even when its upload then fails', () => {
  it('a node:http server (in another thread) answering 413 at once and closing the socket under the upload, as fastify did: 413 for 2 MiB and 16 MiB bodies', async () => {
    // Node's own close: the answer, then the socket destroyed with the upload unread (RST).
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
      const server = require('node:http').createServer((req, res) => {
        res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(workerData.body), connection: 'close' });
        res.end(workerData.body);
      });
      server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
      { eval: true, workerData: { body: PAYLOAD_TOO_LARGE } },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const exchanges: Exchange[] = [];
      const http = client(`http://127.0.0.1:${port}`, exchanges);
      for (const size of [2 * MiB, 16 * MiB]) {
        const body = 'a'.repeat(size);
        for (let i = 0; i < 10; i += 1) {
          const response = await http.request({ method: 'POST', path: '/x', rawBody: body, headers: { 'content-type': 'application/json' } });
          expect(response.status).toBe(413);
          expect(response.json.error.code).toBe('payload_too_large');
          expect(response.headers).toBeInstanceOf(Headers);
          expect(response.headers.get('content-type')).toBe('application/json');
        }
      }
      expect(exchanges.map((e) => [e.status, e.error, e.body])).toEqual(Array(20).fill([413, undefined, JSON.parse(PAYLOAD_TOO_LARGE)]));
    } finally {
      await worker.terminate();
    }
  });

  it('a server that answers 413 and ends its side without ever reading the body: 413', async () => {
    const server = await listen(rawServer((socket) => socket.end(ANSWER_413)));
    try {
      // 64 MiB is more than the loopback buffers hold: the upload cannot complete, only the answer can.
      const response = await client(server.url).request({ method: 'POST', path: '/x', rawBody: 'a'.repeat(64 * MiB) });
      expect(response.status).toBe(413);
      expect(response.json).toEqual(JSON.parse(PAYLOAD_TOO_LARGE));
    } finally {
      await server.close();
    }
  });

  it('the upload stops once a 413 has arrived: a server reading everything after its answer gets far less than the body', async () => {
    let afterAnswer = 0;
    let connectionClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      connectionClosed = resolve;
    });
    const server = await listen(
      rawServer((socket) => {
        socket.write(ANSWER_413);
        socket.on('data', (data: Buffer) => {
          afterAnswer += data.length;
        });
        socket.on('close', connectionClosed);
        socket.resume();
      }),
    );
    try {
      const body = 'a'.repeat(64 * MiB);
      const response = await client(server.url).request({ method: 'POST', path: '/x', rawBody: body });
      expect(response.status).toBe(413);
      await closed;
      expect(afterAnswer).toBeLessThan(body.length / 2);
    } finally {
      await server.close();
    }
  });

  it('a 3xx is returned, not followed, on the paced path too', async () => {
    const server = await listen(
      rawServer((socket) => {
        socket.end('HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      }),
    );
    try {
      const response = await client(server.url).request({ method: 'POST', path: '/x', rawBody: 'a'.repeat(PACED_UPLOAD_THRESHOLD_BYTES + 1) });
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe('http://127.0.0.1:9/elsewhere');
    } finally {
      await server.close();
    }
  });

  it('the deadline holds on the paced path: a server that neither reads nor answers', async () => {
    const server = await listen(rawServer(() => {}));
    try {
      const exchanges: Exchange[] = [];
      const failure = await client(server.url, exchanges, 300)
        .request({ method: 'POST', path: '/x', rawBody: 'a'.repeat(64 * MiB) })
        .then(() => 'answered', (error: Error) => error.message);
      expect(failure).toMatch(/^POST \/x: no answer within the deadline \(\d+ ms\)$/);
      expect(exchanges[0]!.error).toMatch(/^no answer within the deadline/);
    } finally {
      await server.close();
    }
  });
});

describe('transport failures name their cause, never a bare `fetch failed`', () => {
  const failure = (http: TargetHttp, rawBody?: string) =>
    http.request({ method: rawBody === undefined ? 'GET' : 'POST', path: '/x', ...(rawBody === undefined ? {} : { rawBody }) }).then(
      (response) => `answered ${response.status}`,
      (error: Error) => error.message,
    );

  it.each([
    ['a GET (fetch)', undefined],
    ['a small POST (fetch)', 'a'.repeat(1000)],
    ['a 2 MiB POST (paced upload)', 'a'.repeat(2 * MiB)],
  ])('a server that resets the connection without answering: %s names ECONNRESET or EPIPE', async (_name, rawBody) => {
    const server = await listen(rawServer((socket) => socket.resetAndDestroy()));
    try {
      const exchanges: Exchange[] = [];
      const message = await failure(client(server.url, exchanges), rawBody);
      expect(message).toMatch(/^(GET|POST) \/x: .*\b(ECONNRESET|EPIPE)\b/);
      expect(message).not.toMatch(/fetch failed/);
      if (rawBody && rawBody.length > PACED_UPLOAD_THRESHOLD_BYTES) {
        expect(message).toMatch(/: (ECONNRESET|EPIPE) after \d+(\.\d)? (B|KiB|MiB) of 2 MiB uploaded \(the server closed the connection without an answer\)$/);
      }
      expect(exchanges[0]!.error).toBe(message.replace(/^(GET|POST) \/x: /, ''));
    } finally {
      await server.close();
    }
  });

  it.each([
    ['a GET (fetch)', undefined],
    ['a 2 MiB POST (paced upload)', 'a'.repeat(2 * MiB)],
  ])('a refused port: %s names ECONNREFUSED and the address', async (_name, rawBody) => {
    const closed = await listen(net.createServer());
    await closed.close();
    const message = await failure(client(`http://127.0.0.1:${closed.port}`), rawBody);
    expect(message).toMatch(new RegExp(`^(GET|POST) /x: ECONNREFUSED \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${closed.port}\\)$`));
  });

  const openssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!openssl).each([
    ['a GET (fetch)', undefined],
    ['a 2 MiB POST (paced upload)', 'a'.repeat(2 * MiB)],
  ])('a self-signed certificate: %s names DEPTH_ZERO_SELF_SIGNED_CERT', async (_name, rawBody) => {
    const dir = mkdtempSync(join(tmpdir(), 'early-answer-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
      const server = await listen(https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('{}')));
      try {
        const message = await failure(client(server.url), rawBody);
        expect(message).toMatch(/^(GET|POST) \/x: DEPTH_ZERO_SELF_SIGNED_CERT \(self[- ]signed certificate\)$/);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describeTransportError unwraps fetch-shaped errors: cause chains, per-address attempts, TLS codes', () => {
    const coded = (message: string, code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });
    const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });
    expect(describeTransportError(fetchFailed(coded('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED', { syscall: 'connect' })))).toBe('ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:9)');
    expect(describeTransportError(fetchFailed(coded('read ECONNRESET', 'ECONNRESET', { syscall: 'read' })))).toBe('ECONNRESET');
    expect(describeTransportError(fetchFailed(coded("Hostname/IP does not match certificate's altnames: Host: example.test. is not in the cert's altnames: DNS:localhost", 'ERR_TLS_CERT_ALTNAME_INVALID')))).toBe(
      "ERR_TLS_CERT_ALTNAME_INVALID (Hostname/IP does not match certificate's altnames: Host: example.test. is not in the cert's altnames: DNS:localhost)",
    );
    expect(describeTransportError(fetchFailed(coded('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT')))).toBe('DEPTH_ZERO_SELF_SIGNED_CERT (self-signed certificate)');
    const attempts = Object.assign(new AggregateError([coded('connect ECONNREFUSED ::1:9', 'ECONNREFUSED'), coded('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED')], ''), { code: 'ECONNREFUSED' });
    expect(describeTransportError(fetchFailed(attempts))).toBe('ECONNREFUSED (connect ECONNREFUSED ::1:9; connect ECONNREFUSED 127.0.0.1:9)');
    expect(describeTransportError(new TypeError('terminated', { cause: coded('other side closed', 'UND_ERR_SOCKET') }))).toBe('UND_ERR_SOCKET (other side closed)');
    expect(describeTransportError(new Error('something else'))).toBe('something else');
    expect(describeTransportError('a string')).toBe('a string');
  });
});
