/**
 * Helpers for Khala tests: sync tokens, runs with events, raw WebSocket probes that
 * record every frame, and a TCP proxy whose connections a test can cut.
 */
import { randomUUID } from 'node:crypto';
import { createServer, Socket as NetSocket, type Server, type Socket } from 'node:net';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { khalaFrameValidator } from '../../contracts/khala-frame-schemas.ts';
import type { ServerFrame } from '../../contracts/generated/khala-frames.ts';
import type { TestServer } from './reference-server.ts';

export const ALL_SCOPES = ['runtime.run_events', 'runtime.worker_lifecycle', 'runtime.codex_worker_events', 'runtime.read'];

export async function mintToken(t: TestServer, sub: string, extra: { scopes?: string[]; session_id?: string; device_id?: string } = {}): Promise<string> {
  const response = await t.api.call('POST', '/internal/v1/sync/token', { body: { sub, scopes: extra.scopes ?? ALL_SCOPES, ttl_seconds: 600, ...(extra.session_id ? { session_id: extra.session_id } : {}), ...(extra.device_id ? { device_id: extra.device_id } : {}) } });
  if (response.status !== 200) throw new Error(`mint failed: ${response.text}`);
  return response.body.token as string;
}

/** Signs arbitrary claims with the server's key (for malformed-token cases). */
export async function signClaims(t: TestServer, claims: Record<string, unknown>, key = t.config.sync.signingKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));
}

export function baseClaims(t: TestServer, sub = 'user-1'): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: t.config.sync.issuer, aud: t.config.sync.audience, sub, exp: now + 600, nbf: now, iat: now, jti: randomUUID(), scopes: ALL_SCOPES };
}

export async function createRunWithEvents(t: TestServer, owner: string, count: number, start = 1): Promise<{ runId: string; topic: string }> {
  const created = await t.api.call('POST', '/internal/v1/runs', { headers: { 'x-oa-user-id': owner } });
  const runId = created.body.run.id as string;
  await appendEvents(t, runId, count, start);
  return { runId, topic: `run:${runId}:events` };
}

export async function appendEvents(t: TestServer, runId: string, count: number, start = 1): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = start; i < start + count; i++) {
    const response = await t.api.call('POST', `/internal/v1/runs/${runId}/events`, { body: { event_type: 'run.step', idempotency_key: `k${i}`, payload: { i } } });
    if (response.status !== 200) throw new Error(`append ${i} failed: ${response.status} ${response.text}`);
    seqs.push(response.body.event.seq);
  }
  return seqs;
}

export function wsUrl(t: TestServer): string {
  return `${t.url.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
}

/** A raw socket that records every frame, for asserting exact wire behaviour. */
export class FrameProbe {
  readonly frames: ServerFrame[] = [];
  /** Server frames that break the AsyncAPI contract; close() asserts there are none. */
  readonly invalidFrames: string[] = [];
  closeCode: number | undefined;
  private waiters: { predicate: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      const validate = khalaFrameValidator('ServerFrame');
      if (!validate(frame)) this.invalidFrames.push(`${data.toString().slice(0, 200)}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.predicate(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.on('close', (code) => {
      this.closeCode = code;
    });
  }

  static async open(url: string, token: string, headers: Record<string, string> = {}): Promise<FrameProbe> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade denied ${res.statusCode}`)));
    });
    return new FrameProbe(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame (already received or future) matching predicate. */
  waitFor<T extends ServerFrame = ServerFrame>(predicate: (f: ServerFrame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<T> {
    const seen = this.frames.slice(fromIndex).find(predicate);
    if (seen) return Promise.resolve(seen as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames).slice(0, 1500)}`)), timeoutMs);
      this.waiters.push({ predicate, resolve: (f) => { clearTimeout(timer); resolve(f as T); } });
    });
  }

  /** seqs of update_batch updates for topic, in arrival order. */
  seqs(topic: string): number[] {
    return this.frames.flatMap((f) => (f.type === 'update_batch' ? f.updates.filter((u) => u.topic === topic).map((u) => u.seq) : []));
  }

  waitClosed(timeoutMs = 5000): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.ws.once('close', (code) => { clearTimeout(timer); resolve(code); });
    });
  }

  /** Closes the socket and asserts that every frame the server sent matched the contract. */
  close(): void {
    this.ws.terminate();
    expect(this.invalidFrames, 'server frames that break khala.asyncapi.yaml').toEqual([]);
  }
}

/** Outcome of an upgrade attempt: the HTTP status and error envelope of a denial, or 101. */
export async function tryUpgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: undefined });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once('error', (error) => { if (!String(error).includes('Unexpected server response')) reject(error); });
  });
}

/** A loopback TCP proxy whose live connections can be cut at any moment (a network drop). */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;
  cuts = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new NetSocket();
      upstream.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  cutAll(): void {
    this.cuts += 1;
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
