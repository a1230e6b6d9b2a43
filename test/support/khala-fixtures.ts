/**
 * Helpers for Khala tests: sync tokens, runs with events, raw WebSocket probes that
 * record every frame, and a TCP proxy whose connections a test can cut.
 */
import { createServer, Socket as NetSocket, type Server, type Socket } from 'node:net';
import { expect } from 'vitest';
import type { ServerFrame } from '../../contracts/generated/khala-frames.ts';
import { KhalaProbe, tryUpgrade } from '../../harness/khala/khala-probe.ts';
import { ALL_SCOPES, baseClaims as harnessBaseClaims, signClaims as harnessSignClaims } from '../../harness/lanes/khala-support.ts';
import type { TargetSpec } from '../../harness/target.ts';
import type { TestServer } from './reference-server.ts';

export { ALL_SCOPES };

/** A test server as the harness sees a target (its key, issuer and audience). */
function asTarget(t: TestServer): TargetSpec {
  return { name: 'test', base_url: t.url, sync_signing_key: t.config.sync.signingKey, sync_token_issuer: t.config.sync.issuer, sync_token_audience: t.config.sync.audience };
}

export async function mintToken(t: TestServer, sub: string, extra: { scopes?: string[]; session_id?: string; device_id?: string } = {}): Promise<string> {
  const response = await t.api.call('POST', '/internal/v1/sync/token', { body: { sub, scopes: extra.scopes ?? ALL_SCOPES, ttl_seconds: 600, ...(extra.session_id ? { session_id: extra.session_id } : {}), ...(extra.device_id ? { device_id: extra.device_id } : {}) } });
  if (response.status !== 200) throw new Error(`mint failed: ${response.text}`);
  return response.body.token as string;
}

/** Signs arbitrary claims with the server's key (for malformed-token cases). */
export function signClaims(t: TestServer, claims: Record<string, unknown>, key = t.config.sync.signingKey): Promise<string> {
  return harnessSignClaims(asTarget(t), claims, key);
}

export function baseClaims(t: TestServer, sub = 'user-1'): Record<string, unknown> {
  return harnessBaseClaims(asTarget(t), sub);
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

/** The harness's KhalaProbe, closing with an assertion that every server frame matched the contract. */
export class FrameProbe {
  private constructor(private readonly probe: KhalaProbe) {}

  static async open(url: string, token: string, headers: Record<string, string> = {}): Promise<FrameProbe> {
    return new FrameProbe(await KhalaProbe.open(url, token, headers));
  }

  get ws() {
    return this.probe.ws;
  }
  get frames() {
    return this.probe.frames;
  }
  get closeCode() {
    return this.probe.closeCode;
  }
  send(frame: unknown): void {
    this.probe.send(frame);
  }
  waitFor<T extends ServerFrame = ServerFrame>(predicate: (f: ServerFrame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<T> {
    return this.probe.waitFor<T>(predicate, timeoutMs, fromIndex);
  }
  seqs(topic: string): number[] {
    return this.probe.seqs(topic);
  }
  waitClosed(timeoutMs = 5000): Promise<number> {
    return this.probe.waitClosed(timeoutMs);
  }
  /** Closes the socket and asserts that every frame the server sent matched the contract. */
  close(): void {
    this.probe.close();
    expect(this.probe.invalidFrames, 'server frames that break khala.asyncapi.yaml').toEqual([]);
  }
}

export { tryUpgrade };

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
