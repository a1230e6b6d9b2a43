/**
 * A fault-injecting Khala WebSocket proxy (SPEC §4 "khala"): sits between a client
 * and a target on 127.0.0.1 and applies the transport faults K2 allows — duplicated
 * frames, frames reordered within a window, delays, and connections dropped
 * mid-stream — so the harness can show they do not break a correct consumer.
 * Faults are drawn from a seeded PRNG, so a run is reproducible.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { mulberry32 } from '../parity/seeded-random.ts';

export interface FaultPlan {
  /** Probability that an update_batch frame is sent twice. */
  duplicate?: number;
  /** Probability that an update_batch frame is held back and sent after the next one. */
  reorder?: number;
  /** Extra delay per forwarded frame, uniformly in [min, max] ms. */
  delayMs?: [number, number];
  /** Drop the connection (both sides) after this many server frames on it; one entry per connection, in order. */
  dropAfterFrames?: number[];
  seed?: number;
}

export interface FaultCounts {
  connections: number;
  forwarded: number;
  duplicated: number;
  reordered: number;
  delayed: number;
  dropped: number;
}

/** The `type` of a server frame, whatever the key order (undefined for non-JSON). */
function frameType(text: string): unknown {
  try {
    return (JSON.parse(text) as { type?: unknown }).type;
  } catch {
    return undefined;
  }
}


export class KhalaFaultProxy {
  readonly counts: FaultCounts = { connections: 0, forwarded: 0, duplicated: 0, reordered: 0, delayed: 0, dropped: 0 };
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly random: () => number;
  private readonly sockets = new Set<WebSocket>();

  constructor(
    /** ws:// URL of the target's /internal/v1/khala/ws. */
    private readonly upstreamUrl: string,
    private readonly plan: FaultPlan,
  ) {
    this.random = mulberry32(plan.seed ?? 1);
  }

  /** Starts listening; returns the proxy's ws:// URL (same path as upstream). */
  async start(): Promise<string> {
    this.server = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    this.wss = new WebSocketServer({ server: this.server, perMessageDeflate: false });
    this.wss.on('connection', (client, request) => this.bridge(client, request));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `ws://127.0.0.1:${port}${new URL(this.upstreamUrl).pathname}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private bridge(client: WebSocket, request: IncomingMessage): void {
    const index = this.counts.connections++;
    const dropAfter = this.plan.dropAfterFrames?.[index];
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'origin']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const upstream = new WebSocket(this.upstreamUrl + (new URL(request.url ?? '/', 'http://x').search || ''), { headers, perMessageDeflate: false });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const pendingFromClient: string[] = [];
    let held: string | undefined;
    let frames = 0;
    let chain = Promise.resolve();
    const closeBoth = (code?: number) => {
      if (code !== undefined && code >= 4000 && client.readyState === WebSocket.OPEN) client.close(code);
      else client.terminate();
      upstream.terminate();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    const deliver = (text: string) => {
      if (client.readyState === WebSocket.OPEN) {
        client.send(text);
        this.counts.forwarded += 1;
      }
    };
    upstream.on('open', () => {
      for (const frame of pendingFromClient.splice(0)) upstream.send(frame);
    });
    upstream.on('unexpected-response', (_req, res) => {
      // Pass the target's pre-upgrade denial on as a close: the client sees the socket fail.
      res.resume();
      closeBoth();
    });
    client.on('message', (data) => {
      const text = data.toString();
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else pendingFromClient.push(text);
    });
    upstream.on('message', (data) => {
      const text = data.toString();
      chain = chain.then(async () => {
        frames += 1;
        if (this.plan.delayMs) {
          const [min, max] = this.plan.delayMs;
          this.counts.delayed += 1;
          await new Promise((r) => setTimeout(r, min + this.random() * (max - min)));
        }
        const isBatch = frameType(text) === 'update_batch';
        if (isBatch && this.plan.reorder && held === undefined && this.random() < this.plan.reorder) {
          held = text;
          this.counts.reordered += 1;
        } else {
          deliver(text);
          if (held !== undefined) {
            deliver(held);
            held = undefined;
          }
          if (isBatch && this.plan.duplicate && this.random() < this.plan.duplicate) {
            deliver(text);
            this.counts.duplicated += 1;
          }
        }
        if (dropAfter !== undefined && frames === dropAfter) {
          this.counts.dropped += 1;
          closeBoth();
        }
      });
    });
    upstream.on('close', (code) => {
      void chain.then(() => {
        if (held !== undefined) deliver(held);
        closeBoth(code);
      });
    });
    client.on('close', () => closeBoth());
    upstream.on('error', () => closeBoth());
    client.on('error', () => closeBoth());
  }
}
