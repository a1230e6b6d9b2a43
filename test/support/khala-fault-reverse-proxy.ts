/**
 * A fault-injecting reverse proxy for tests: a whole target (HTTP and the Khala
 * WebSocket) behind one 127.0.0.1 port-0 listener, so the harness can run a lane
 * through the transport faults K2 allows (contracts/KHALA_ORDERING.md#k2):
 *
 * - every HTTP connection is piped to the target byte for byte (so HTTP costs next to
 *   nothing and keep-alive, streaming and SSE behave as without the proxy);
 * - a WebSocket upgrade is relayed to the target (its denial relayed as is), and the
 *   server→client frames of the chosen types (default `update_batch`) may be
 *   duplicated byte for byte, held back and sent after the next frame (reordered), and
 *   the connection may be cut after a few of them, as an abnormal close (1006) or a
 *   transport close code (1001, 1011, 1012, 1013, 1014). Application close codes
 *   from the target (4001, 4002, 1008, …) are relayed as they are.
 *
 * Faults come from a seeded PRNG and are bounded (at most `maxCuts` cuts; a held frame
 * waits at most `holdMs`). The harness's own WS fault proxy (harness/khala/fault-proxy.ts)
 * fronts a WebSocket URL only; this one fronts a whole target for runGate.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { type RawData, WebSocketServer } from 'ws';
import { mulberry32 } from '../../harness/parity/seeded-random.ts';

export type CutStyle = 'terminate' | 1001 | 1011 | 1012 | 1013 | 1014;

export interface ReverseFaultPlan {
  seed?: number;
  /** Probability that a frame (of `types`) is sent twice, byte for byte. */
  duplicate?: number;
  /** Probability that a frame (of `types`) is held back and sent after the next frame. */
  reorder?: number;
  /** Longest a held frame waits for a successor before it is sent anyway (default 40 ms). */
  holdMs?: number;
  /** Cut each connection after this many frames (of `types`), drawn uniformly from [min, max]. */
  cutAfterFrames?: [number, number];
  /** How a cut looks to the client, picked per cut by the PRNG (default: abnormal close 1006). */
  cutWith?: CutStyle[];
  /** At most this many connections are cut (default 20); later connections run clean. */
  maxCuts?: number;
  /** Server frame types the faults apply to (default `update_batch`). */
  types?: string[];
}

export interface ReverseFaultCounts {
  /** Plain HTTP connections piped to the target. */
  httpConnections: number;
  connections: number;
  /** Server frames sent to clients (copies included). */
  forwarded: number;
  duplicated: number;
  reordered: number;
  cuts: number;
  /** Close codes the cuts used ('terminate' counted as 1006). */
  cutCodes: number[];
}

export interface KhalaFaultReverseProxy {
  /** http://127.0.0.1:<port>: use as a target's base_url. */
  url: string;
  readonly counts: ReverseFaultCounts;
  close(): Promise<void>;
}

/** Longest request head the proxy reads to tell an upgrade from plain HTTP. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Headers a proxy does not pass on: hop-by-hop (RFC 9110 §7.6.1) and those the WebSocket handshake sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);
const WS_HANDSHAKE = new Set(['host', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept', 'content-length']);


function frameType(data: RawData): unknown {
  try {
    return (JSON.parse(data.toString()) as { type?: unknown }).type;
  } catch {
    return undefined;
  }
}

/** Close codes a WebSocket endpoint may send in a close frame (RFC 6455 §7.4). */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

function forwardedHeaders(headers: IncomingHttpHeaders, drop: Set<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name) && !drop.has(name)) out[name] = value;
  return out;
}

/** A request head ("GET /path HTTP/1.1" and its header lines) as the fields WebSocketServer.handleUpgrade reads. */
function parseHead(text: string): { method: string; url: string; headers: IncomingHttpHeaders } | undefined {
  const [requestLine, ...lines] = text.split('\r\n');
  const match = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine ?? '');
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { method: match[1]!, url: match[2]!, headers };
}

/** Starts the proxy in front of `targetUrl` (http://host:port). */
export async function startKhalaFaultReverseProxy(targetUrl: string, plan: ReverseFaultPlan = {}): Promise<KhalaFaultReverseProxy> {
  const target = new URL(targetUrl);
  const random = mulberry32(plan.seed ?? 1);
  const types = new Set(plan.types ?? ['update_batch']);
  const counts: ReverseFaultCounts = { httpConnections: 0, connections: 0, forwarded: 0, duplicated: 0, reordered: 0, cuts: 0, cutCodes: [] };
  const sockets = new Set<WebSocket | Duplex>();

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  /**
   * Each connection starts with a request head: a WebSocket upgrade is relayed frame by
   * frame (with faults); anything else is piped to the target as it is, for the life of
   * the connection (WebSocket clients open a connection per upgrade, so no upgrade
   * follows plain requests on a keep-alive connection).
   */
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0 && buffered.length < MAX_HEAD_BYTES) return;
      socket.off('data', onData);
      socket.pause();
      const head = end < 0 ? undefined : parseHead(buffered.subarray(0, end).toString('latin1'));
      if (head && head.method === 'GET' && /\bwebsocket\b/i.test(String(head.headers.upgrade ?? ''))) upgrade(head as unknown as IncomingMessage, socket, buffered.subarray(end + 4));
      else pipe(socket, buffered);
    };
    socket.on('data', onData);
  });

  function pipe(socket: Socket, first: Buffer): void {
    counts.httpConnections += 1;
    const upstream = netConnect({ host: target.hostname, port: Number(target.port), noDelay: true });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      socket.destroy();
    });
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.write(first);
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.resume();
  }

  function upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const upstreamUrl = `${target.protocol === 'https:' ? 'wss' : 'ws'}://${target.host}${req.url ?? '/'}`;
    const upstream = new WebSocket(upstreamUrl, { headers: forwardedHeaders(req.headers, WS_HANDSHAKE) as Record<string, string>, perMessageDeflate: false });
    sockets.add(upstream);
    upstream.once('unexpected-response', (_request, response) => {
      // The target's denial goes back as it came: status, headers, body.
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const headers = Object.entries(forwardedHeaders(response.headers, new Set(['content-length'])))
          .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}\r\n`)
          .join('');
        socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${response.statusCode} ${response.statusMessage ?? ''}\r\n${headers}content-length: ${body.length}\r\nconnection: close\r\n\r\n`), body]));
        sockets.delete(upstream);
      });
    });
    upstream.once('error', () => {
      sockets.delete(upstream);
      socket.destroy();
    });
    upstream.once('open', () => {
      wss.handleUpgrade(req, socket, head, (client) => {
        sockets.add(client);
        bridge(client, upstream);
        // The socket was paused while the head was read; the WebSocket reads it from here on.
        socket.resume();
      });
    });
  }

  function bridge(client: WebSocket, upstream: WebSocket): void {
    counts.connections += 1;
    const [min, max] = plan.cutAfterFrames ?? [0, 0];
    const cutAt = plan.cutAfterFrames && counts.cuts < (plan.maxCuts ?? 20) ? min + Math.floor(random() * (max - min + 1)) : undefined;
    let faultable = 0;
    let cut = false;
    let held: { data: RawData; binary: boolean; timer: NodeJS.Timeout } | undefined;
    const deliver = (data: RawData, binary: boolean) => {
      if (client.readyState !== WebSocket.OPEN) return;
      client.send(data, { binary });
      counts.forwarded += 1;
    };
    const releaseHeld = () => {
      if (!held) return;
      clearTimeout(held.timer);
      const { data, binary } = held;
      held = undefined;
      deliver(data, binary);
    };
    const cutNow = () => {
      if (held) clearTimeout(held.timer);
      // What was held back is lost with the connection, as in a real cut: the client resumes.
      held = undefined;
      cut = true;
      counts.cuts += 1;
      const styles = plan.cutWith?.length ? plan.cutWith : (['terminate'] as CutStyle[]);
      const style = styles[Math.floor(random() * styles.length)]!;
      counts.cutCodes.push(style === 'terminate' ? 1006 : style);
      if (style === 'terminate') client.terminate();
      else client.close(style, 'khala-fault-reverse-proxy cut');
      upstream.terminate();
    };
    client.on('message', (data, binary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
    });
    upstream.on('message', (data, binary) => {
      if (cut) return;
      if (binary || !types.has(frameType(data) as string)) {
        deliver(data, binary);
        releaseHeld();
        return;
      }
      faultable += 1;
      if (!held && plan.reorder && random() < plan.reorder) {
        counts.reordered += 1;
        held = { data, binary, timer: setTimeout(releaseHeld, plan.holdMs ?? 40) };
      } else {
        deliver(data, binary);
        if (plan.duplicate && random() < plan.duplicate) {
          deliver(data, binary);
          counts.duplicated += 1;
        }
        releaseHeld();
      }
      if (cutAt !== undefined && faultable >= cutAt && counts.cuts < (plan.maxCuts ?? 20)) cutNow();
    });
    upstream.on('close', (code, reason) => {
      sockets.delete(upstream);
      if (cut) return;
      releaseHeld();
      if (client.readyState !== WebSocket.OPEN) return;
      if (sendable(code)) client.close(code, reason);
      else client.terminate();
    });
    client.on('close', (code, reason) => {
      sockets.delete(client);
      if (held) clearTimeout(held.timer);
      if (upstream.readyState === WebSocket.OPEN && sendable(code)) upstream.close(code, reason);
      else upstream.terminate();
    });
    client.on('error', () => upstream.terminate());
    upstream.on('error', () => client.terminate());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    async close() {
      for (const socket of sockets) {
        if (socket instanceof WebSocket) socket.terminate();
        else socket.destroy();
      }
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
