/**
 * Hostile targets for harness robustness tests: loopback HTTP servers that hang, cut
 * sockets mid-body or mid-frame, answer non-JSON, stream gigantic bodies and WebSocket
 * frames, or redirect to another host. Each records the requests it saw and destroys
 * every socket on close().
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface HostileTarget {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export interface HostileBehaviour {
  http(req: IncomingMessage, res: ServerResponse): void;
  /** WebSocket upgrade requests; default: the same as http (a plain answer, no upgrade). */
  upgrade?(req: IncomingMessage, socket: Duplex): void;
}

export async function startHostileTarget(behaviour: HostileBehaviour): Promise<HostileTarget> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    behaviour.http(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    requests.push(`UPGRADE ${req.url}`);
    socket.on('error', () => {});
    if (behaviour.upgrade) behaviour.upgrade(req, socket);
    else socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Completes a WebSocket handshake by hand, so the test controls every byte after it. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex): void {
  const key = String(req.headers['sec-websocket-key'] ?? '');
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
}

/** An unmasked server text frame header for a payload of `length` bytes. */
export function textFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65536) {
    const header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

export function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([textFrameHeader(payload.length), payload]);
}
