/**
 * A raw Khala socket that records every server frame and checks it against the
 * AsyncAPI schemas: the harness's probe for exact wire behaviour (the KhalaClient,
 * by contrast, hides duplicates and reordering the way a consumer should).
 */
import WebSocket from 'ws';
import type { ServerFrame } from '../../contracts/generated/khala-frames.ts';
import { khalaFrameValidator } from '../../contracts/khala-frame-schemas.ts';
import { formatAjvErrors } from '../../contracts/openapi-operations.ts';

export class KhalaProbe {
  readonly frames: ServerFrame[] = [];
  /** Server frames that break khala.asyncapi.yaml. */
  readonly invalidFrames: string[] = [];
  closeCode: number | undefined;
  private waiters: { predicate: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(text) as ServerFrame;
      } catch {
        this.invalidFrames.push(`non-JSON frame: ${text.slice(0, 200)}`);
        return;
      }
      const validate = khalaFrameValidator('ServerFrame');
      if (!validate(frame)) this.invalidFrames.push(`${text.slice(0, 200)}: ${formatAjvErrors(validate.errors).slice(0, 2).map((v) => `${v.path} ${v.message}`).join('; ')}`);
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
    ws.on('error', () => {});
  }

  static async open(url: string, token: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<KhalaProbe> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}`, ...headers }, perMessageDeflate: false, handshakeTimeout: timeoutMs });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade denied with HTTP ${res.statusCode}`)));
    });
    return new KhalaProbe(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame (already received or future) matching predicate. */
  waitFor<T extends ServerFrame = ServerFrame>(predicate: (f: ServerFrame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<T> {
    const seen = this.frames.slice(fromIndex).find(predicate);
    if (seen) return Promise.resolve(seen as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; last frames: ${JSON.stringify(this.frames.slice(-5)).slice(0, 800)}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f as T);
        },
      });
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
      this.ws.once('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Outcome of an upgrade attempt: the HTTP status and error envelope of a denial, or 101. */
export async function tryUpgrade(url: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<{ status: number; body: any }> {
  const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: undefined });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // a non-JSON denial is reported as text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.once('error', (error) => {
      if (!String(error).includes('Unexpected server response')) reject(error);
    });
  });
}
