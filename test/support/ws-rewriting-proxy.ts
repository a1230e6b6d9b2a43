/**
 * A WebSocket proxy for faulty-target tests: sits on 127.0.0.1 port 0 in front of a
 * target's Khala endpoint and rewrites (or drops) server frames that match a rule, so a
 * test can make a candidate send one different frame. Client frames pass unchanged; the
 * upgrade's Authorization and Origin headers are forwarded.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export interface FrameRewrite {
  /** Which server frames (parsed JSON) the rule applies to. */
  match: (frame: any) => boolean;
  /** The frame to send instead; null drops it. */
  rewrite: (frame: any) => unknown;
  /** Apply to at most this many matching frames (default: every one). */
  times?: number;
}

export interface WsRewritingProxy {
  /** ws:// URL with the upstream's path. */
  url: string;
  /** How many frames each rule (by index) changed. */
  readonly applied: number[];
  close(): Promise<void>;
}

export async function startWsRewritingProxy(upstreamUrl: string, rules: FrameRewrite[]): Promise<WsRewritingProxy> {
  const applied = rules.map(() => 0);
  const sockets = new Set<WebSocket>();
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (client: WebSocket, request: IncomingMessage) => {
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'origin']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const upstream = new WebSocket(upstreamUrl + (new URL(request.url ?? '/', 'http://x').search || ''), { headers, perMessageDeflate: false });
    sockets.add(client);
    sockets.add(upstream);
    const pending: string[] = [];
    const closeBoth = (code?: number) => {
      if (code !== undefined && code >= 4000 && client.readyState === WebSocket.OPEN) client.close(code);
      else client.terminate();
      upstream.terminate();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    upstream.on('open', () => {
      for (const frame of pending.splice(0)) upstream.send(frame);
    });
    upstream.on('unexpected-response', (_req, res) => {
      res.resume();
      closeBoth();
    });
    client.on('message', (data) => {
      const text = data.toString();
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else pending.push(text);
    });
    upstream.on('message', (data) => {
      let out: string | null = data.toString();
      let frame: unknown;
      try {
        frame = JSON.parse(out);
      } catch {
        frame = undefined;
      }
      rules.forEach((rule, index) => {
        if (out === null || frame === undefined || !rule.match(frame)) return;
        if (rule.times !== undefined && applied[index]! >= rule.times) return;
        applied[index]! += 1;
        const next = rule.rewrite(frame);
        frame = next;
        out = next === null ? null : JSON.stringify(next);
      });
      if (out !== null && client.readyState === WebSocket.OPEN) client.send(out);
    });
    upstream.on('close', (code) => closeBoth(code));
    client.on('close', () => closeBoth());
    upstream.on('error', () => closeBoth());
    client.on('error', () => closeBoth());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}${new URL(upstreamUrl).pathname}`,
    applied,
    async close() {
      for (const socket of sockets) socket.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
