/**
 * A deliberately faulty target for harness tests: an in-process HTTP proxy on
 * 127.0.0.1 port 0 in front of a real reference server, with a small fault DSL.
 * Each fault matches method + path (and optionally the request body) and then changes
 * the answer: another status, a rewritten JSON or text body, a non-JSON body, a delay,
 * or no answer at all. Every lane of the harness must be able to fail against it.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

/** The request a fault sees: the JSON body is parsed when it is JSON. */
export interface FaultRequest {
  method: string;
  /** Path with query string, as the client sent it. */
  path: string;
  text: string;
  body: any;
}

export interface Fault {
  /** HTTP method to match; any method when omitted. */
  method?: string;
  /** Matched against the path (with query string). */
  path: RegExp;
  /** Further condition on the request, e.g. its JSON body (answer 500 to bodies matching a predicate). */
  when?: (request: FaultRequest) => boolean;
  /** Let the first `after` matching requests through untouched (default 0). */
  after?: number;
  /** Apply to at most this many matching requests after `after` (default: every one). */
  times?: number;
  /** Never answer: the connection stays open until the client gives up or the proxy closes. */
  hang?: boolean;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Replace the status code. */
  status?: number;
  /** Replace the status code depending on the upstream's (e.g. 429 → 500). */
  mapStatus?: (status: number) => number;
  /** Rewrite the upstream JSON body (skipped when the upstream body is not JSON). */
  json?: (body: any, request: FaultRequest) => unknown;
  /** Rewrite the upstream body as text (e.g. Prometheus exposition). */
  rewriteText?: (text: string, request: FaultRequest) => string;
  /** Replace the body with this text; the upstream content-type stays unless `contentType` is given. */
  text?: string;
  contentType?: string;
  /** Response headers the proxy does not relay (names, any case), e.g. `retry-after`. */
  dropResponseHeaders?: string[];
  /** Response headers set on the answer (after dropResponseHeaders), e.g. `{ 'retry-after': 'soon' }`. */
  responseHeaders?: Record<string, string>;
}

/** Per-connection state a WebSocket fault sees. */
export interface WsConnection {
  /** 0-based index of this connection through the proxy. */
  index: number;
  /** Server frames received from the target on this connection so far (including this one). */
  frames: number;
}

/**
 * A fault on the Khala WebSocket path: the proxy relays upgrades and frames and lets
 * these rewrite them, so a test can build a target that breaks one ordering or
 * threat-model rule while everything else stays correct.
 */
export interface WsFault {
  /** Request headers the proxy does not forward on the upgrade (e.g. `origin`: the target never sees it). */
  dropRequestHeaders?: string[];
  /** Rewrites a denied upgrade (status and parsed JSON body). */
  deny?: (status: number, body: any) => { status: number; body: unknown };
  /** Accepts an upgrade the target denied with this reason code (a target that lets it through). */
  acceptDenied?: (reasonCode: string | undefined) => boolean;
  /** Rewrites one server frame into the frames actually sent (an empty list drops it). */
  serverFrame?: (frame: any, connection: WsConnection) => unknown[];
  /** Rewrites the close code the target sent before it reaches the client. */
  closeCode?: (code: number) => number;
}

export interface FaultyTarget {
  url: string;
  /** How many requests each fault (by index) has changed. */
  readonly applied: number[];
  /** Every request the proxy saw, in order, with the indexes of the faults applied to it. */
  readonly requests: { method: string; path: string; faults: number[] }[];
  /** Replaces the faults (counters restart), e.g. to break a target after the harness's preflight. */
  setFaults(faults: Fault[]): void;
  /** Replaces the WebSocket faults for new connections. */
  setWsFaults(faults: WsFault[]): void;
  /** WebSocket connections relayed so far. */
  readonly wsConnections: number;
  close(): Promise<void>;
}

/** Hop-by-hop and framing headers that the proxy recomputes itself. */
const DROP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'host', 'upgrade', 'proxy-connection', 'te', 'trailer']);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Starts the proxy on 127.0.0.1:0 in front of upstreamUrl. Faults apply in order; every
 * matching fault is applied to the same answer (a delay and a status change compose).
 */
export async function startFaultyTarget(upstreamUrl: string, faults: Fault[] = [], wsFaults: WsFault[] = []): Promise<FaultyTarget> {
  const upstream = upstreamUrl.replace(/\/+$/, '');
  let activeWs = wsFaults;
  const ws = { connections: 0 };
  let active: Fault[] = faults;
  let matched: number[] = faults.map(() => 0);
  const applied: number[] = faults.map(() => 0);
  const requests: FaultyTarget['requests'] = [];
  const aborter = new AbortController();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const request: FaultRequest = { method: req.method ?? 'GET', path: req.url ?? '/', text, body: parseJson(text) };
    const current = active;
    const counts = matched;
    const hits: Fault[] = [];
    const indexes: number[] = [];
    current.forEach((fault, index) => {
      if (fault.method && fault.method.toUpperCase() !== request.method) return;
      if (!fault.path.test(request.path.split('?')[0]!) && !fault.path.test(request.path)) return;
      if (fault.when && !fault.when(request)) return;
      const n = counts[index]!;
      counts[index] = n + 1;
      const after = fault.after ?? 0;
      if (n < after || (fault.times !== undefined && n >= after + fault.times)) return;
      if (current === active) applied[index] = (applied[index] ?? 0) + 1;
      hits.push(fault);
      indexes.push(index);
    });
    requests.push({ method: request.method, path: request.path, faults: indexes });
    // A hung endpoint: hold the socket open and never write; close() destroys it.
    if (hits.some((f) => f.hang)) return;

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !DROP_HEADERS.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const answer = await fetch(`${upstream}${request.path}`, {
      method: request.method,
      headers,
      ...(text === '' || request.method === 'GET' || request.method === 'HEAD' ? {} : { body: text }),
      redirect: 'manual',
      signal: aborter.signal,
    });
    let status = answer.status;
    let body = await answer.text();
    let contentType = answer.headers.get('content-type') ?? '';
    for (const fault of hits) {
      if (fault.status !== undefined) status = fault.status;
      if (fault.mapStatus) status = fault.mapStatus(status);
      if (fault.json) {
        const parsed = parseJson(body);
        if (parsed !== undefined) body = JSON.stringify(fault.json(parsed, request));
      }
      if (fault.rewriteText) body = fault.rewriteText(body, request);
      if (fault.text !== undefined) body = fault.text;
      if (fault.contentType !== undefined) contentType = fault.contentType;
    }
    const delayMs = hits.reduce((sum, f) => sum + (f.delayMs ?? 0), 0);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!DROP_HEADERS.has(name) && name !== 'content-type') out[name] = value;
    });
    for (const fault of hits) {
      for (const name of fault.dropResponseHeaders ?? []) delete out[name.toLowerCase()];
      for (const [name, value] of Object.entries(fault.responseHeaders ?? {})) out[name.toLowerCase()] = value;
    }
    if (contentType) out['content-type'] = contentType;
    out['content-length'] = String(Buffer.byteLength(body));
    if (!res.destroyed) res.writeHead(status, out).end(body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // The proxy itself must not turn a test into a crash: a broken upstream is a 502.
      if (res.destroyed) return;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`faulty-target: upstream failed: ${(error as Error).message}`);
    });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const sockets = new Set<WebSocket | Duplex>();
  server.on('upgrade', (req, socket, head) => {
    sockets.add(socket);
    relayUpgrade(`${upstream.replace(/^http/, 'ws')}${req.url ?? '/'}`, req, socket, head, wss, activeWs, ws.connections++, sockets);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    applied,
    requests,
    setFaults(next) {
      active = next;
      matched = next.map(() => 0);
      applied.length = 0;
      applied.push(...next.map(() => 0));
    },
    setWsFaults(next) {
      activeWs = next;
    },
    get wsConnections() {
      return ws.connections;
    },
    async close() {
      aborter.abort();
      for (const socket of sockets) {
        if (socket instanceof WebSocket) socket.terminate();
        else socket.destroy();
      }
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Relays one WebSocket upgrade to the target, applying the WebSocket faults to it. */
function relayUpgrade(url: string, req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer, faults: WsFault[], index: number, sockets: Set<WebSocket | Duplex>): void {
  const dropped = new Set(faults.flatMap((f) => f.dropRequestHeaders ?? []).map((h) => h.toLowerCase()));
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'origin'] as const) {
    const value = (req.headers as IncomingHttpHeaders)[name];
    if (typeof value === 'string' && !dropped.has(name)) headers[name] = value;
  }
  const target = new WebSocket(url, { headers, perMessageDeflate: false });
  sockets.add(target);
  socket.on('error', () => target.terminate());
  target.once('unexpected-response', (_request, response) => {
    let text = '';
    response.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    response.on('end', () => {
      let status = response.statusCode ?? 502;
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // a non-JSON denial is relayed as text
      }
      const reason = (body as { error?: { details?: { reason_code?: string } } })?.error?.details?.reason_code;
      if (faults.some((f) => f.acceptDenied?.(reason))) {
        wss.handleUpgrade(req, socket, head, (client) => {
          sockets.add(client);
          setTimeout(() => client.close(1000), 200);
        });
        return;
      }
      for (const fault of faults) if (fault.deny) ({ status, body } = fault.deny(status, body));
      const out = typeof body === 'string' ? body : JSON.stringify(body);
      socket.end(`HTTP/1.1 ${status} Denied\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(out)}\r\nconnection: close\r\n\r\n${out}`);
    });
  });
  target.once('error', () => socket.destroy());
  target.once('open', () => {
    wss.handleUpgrade(req, socket, head, (client) => {
      sockets.add(client);
      const connection: WsConnection = { index, frames: 0 };
      client.on('message', (data) => {
        if (target.readyState === WebSocket.OPEN) target.send(data.toString());
      });
      target.on('message', (data) => {
        connection.frames += 1;
        let frames: unknown[] = [JSON.parse(data.toString())];
        for (const fault of faults) if (fault.serverFrame) frames = frames.flatMap((frame) => fault.serverFrame!(frame, connection));
        for (const frame of frames) if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(frame));
      });
      target.on('close', (code) => {
        let relayed = code;
        for (const fault of faults) if (fault.closeCode) relayed = fault.closeCode(relayed);
        if (client.readyState === WebSocket.OPEN) {
          if (relayed === 1000 || relayed >= 3000) client.close(relayed);
          else client.terminate();
        }
      });
      client.on('close', () => target.terminate());
      client.on('error', () => target.terminate());
    });
  });
}
