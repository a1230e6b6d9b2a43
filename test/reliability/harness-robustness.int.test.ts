/**
 * Harness robustness (issue 9 §4): runGate against targets that close sockets mid-body or
 * mid-frame, answer non-JSON, send gigantic bodies and frames, or redirect elsewhere. Each
 * run finishes within its deadline with a NO-GO whose failing checks name the cause, the
 * report folder is complete and verifies, and a redirect is never followed off the
 * target's host (the other host gets no request). Hung and slow targets are in
 * harness-deadlines.int.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KhalaClient } from '../../harness/khala/khala-client.ts';
import { verifyReportFolder } from '../../harness/report/index.ts';
import { type RunGateResult, runGate } from '../../harness/run-gate.ts';
import { acceptWebSocket, type HostileBehaviour, type HostileTarget, startHostileTarget, textFrame, textFrameHeader } from './hostile-targets.ts';
import { DEV_INTERNAL_TOKEN, DEV_SIGNING_KEY, signSyncToken, sleep } from './load-support.ts';

const dirs: string[] = [];
const targets: HostileTarget[] = [];
afterAll(async () => {
  for (const target of targets) await target.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Generous for a loaded 2-core machine: every hostile target here answers (badly) at once,
// so a correct harness finishes long before; the deadlines only bound a harness that hangs.
const CHECK_TIMEOUT_MS = 3000;
const RUN_TIMEOUT_MS = 20_000;

async function gateAgainst(behaviour: HostileBehaviour): Promise<{ run: RunGateResult; elapsedMs: number; target: HostileTarget; failing: string[] }> {
  const target = await startHostileTarget(behaviour);
  targets.push(target);
  const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-hostile-'));
  dirs.push(dir);
  const started = Date.now();
  const run = await runGate({
    candidate: { name: 'hostile', base_url: target.url, internal_token: DEV_INTERNAL_TOKEN, sync_signing_key: DEV_SIGNING_KEY, profile: 'test' },
    outDir: join(dir, 'report'),
    checkTimeoutMs: CHECK_TIMEOUT_MS,
    runTimeoutMs: RUN_TIMEOUT_MS,
  });
  const elapsedMs = Date.now() - started;
  if (process.env.RELIABILITY_DEBUG) console.log(run.report.checks.map((c) => `${c.status} ${c.check_id}: ${c.detail.slice(0, 160)}`).join('\n'));
  const failing = run.report.checks.filter((c) => c.status === 'failed' || c.status === 'error').map((c) => `${c.check_id}: ${c.detail}`);
  return { run, elapsedMs, target, failing };
}

function expectNoGo({ run, elapsedMs, failing }: { run: RunGateResult; elapsedMs: number; failing: string[] }, cause: RegExp): void {
  expect(run.report.decision).toBe('NO-GO');
  expect(run.exitCode).toBe(1);
  // Preflight is 3 requests of up to 5 s each; a target that answers at once costs nothing there.
  // Margin for a loaded machine; without the run deadline a hostile target holds the run for minutes.
  expect(elapsedMs, 'runGate finished within its deadline').toBeLessThan(RUN_TIMEOUT_MS + 25_000);
  expect(failing.length).toBeGreaterThan(0);
  expect(failing.filter((line) => cause.test(line)).length, `a failing check names the cause ${cause}:\n${failing.slice(0, 8).join('\n')}`).toBeGreaterThan(0);
  const verified = verifyReportFolder(run.dir);
  expect(verified.problems).toEqual([]);
}

const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
};

describe('runGate against hostile targets', () => {
  it('a target that cuts every socket mid-body and mid-frame: NO-GO naming the cut connection', async () => {
    const result = await gateAgainst({
      http: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4000' });
        res.write('{"status":"ok","service":"runt');
        setTimeout(() => res.socket?.destroy(), 20);
      },
      upgrade: (req, socket) => {
        acceptWebSocket(req, socket);
        socket.write(Buffer.concat([textFrameHeader(500), Buffer.from('{"type":"subscribed","request_id"')]));
        setTimeout(() => socket.destroy(), 20);
      },
    });
    expectNoGo(result, /terminated|closed|socket|reset|ECONNRESET|aborted|fetch failed|other side/i);
  });

  it('a target that answers non-JSON everywhere: NO-GO naming the body', async () => {
    const result = await gateAgainst({
      http: (req, res) => {
        const body = req.url?.startsWith('/metrics') ? '<html>metrics?</html>' : 'this is { not json';
        res.writeHead(200, { 'content-type': req.url?.includes('health') ? 'application/json' : 'text/html', 'content-length': Buffer.byteLength(body) }).end(body);
      },
      upgrade: (req, socket) => {
        acceptWebSocket(req, socket);
        socket.write(textFrame('not json at all'));
        socket.write(textFrame('{"type":'));
      },
    });
    expectNoGo(result, /json|content-type|schema|expected|must be/i);
  });

  it('a target that streams gigantic bodies and announces a 1 TiB frame: NO-GO, bounded memory', async () => {
    const rssBefore = process.memoryUsage().rss;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const result = await gateAgainst({
      http: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"status":"ok","pad":"');
        let sent = 0;
        const pump = () => {
          while (sent < 40 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end('"}');
        };
        pump();
      },
      upgrade: (req, socket) => {
        acceptWebSocket(req, socket);
        socket.write(textFrameHeader(2 ** 40));
        socket.write(Buffer.alloc(1024 * 1024, 0x61));
      },
    });
    expectNoGo(result, /truncat|too large|exceed|max(imum)? payload|1009|deadline|json|expected/i);
    expect((process.memoryUsage().rss - rssBefore) / 1024 / 1024, 'RSS growth in MiB').toBeLessThan(600);
  });

  it('a target that redirects every request to another host: NO-GO naming the redirect, and the other host gets nothing', async () => {
    const elsewhere = await startHostileTarget({ http: (_req, res) => json(res, 200, { status: 'ok' }), upgrade: (req, socket) => acceptWebSocket(req, socket) });
    targets.push(elsewhere);
    const other = new URL(elsewhere.url);
    const result = await gateAgainst({
      http: (req, res) => {
        // Another port on 127.0.0.1 and a name for it: both are "off the target's host:port".
        const location = req.url?.includes('health') ? `http://localhost:${other.port}${req.url}` : `${elsewhere.url}${req.url}`;
        res.writeHead(req.method === 'POST' ? 307 : 302, { location, 'content-length': '0' }).end();
      },
      upgrade: (req, socket) => {
        socket.end(`HTTP/1.1 302 Found\r\nLocation: ${elsewhere.url.replace('http', 'ws')}${req.url}\r\nContent-Length: 0\r\n\r\n`);
      },
    });
    expectNoGo(result, /30[1278]|redirect/i);
    expect(elsewhere.requests, 'the harness never followed a redirect').toEqual([]);
  });
});

describe('the harness Khala client against hostile WebSocket servers', () => {
  const clients: KhalaClient[] = [];
  afterAll(async () => {
    for (const client of clients) await client.close();
  });
  const clientFor = async (target: HostileTarget) => {
    const client = new KhalaClient({ url: `${target.url.replace('http', 'ws')}/internal/v1/khala/ws`, token: await signSyncToken('hostile'), topics: ['run:r:events'], reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, handshakeTimeoutMs: 3000 });
    clients.push(client);
    return client;
  };
  const subscribed = '{"type":"subscribed","request_id":"r1","subscription_id":"s","heartbeat_ms":1000,"topics":{"run:r:events":{"head_seq":0,"oldest_available_seq":1,"epoch":"e","qos_tier":"hot"}}}';

  it('a frame announced as 1 TiB fails the connection at once (1009) without allocating it', async () => {
    const rssBefore = process.memoryUsage().rss;
    const target = await startHostileTarget({
      http: (_req, res) => res.writeHead(404).end(),
      upgrade: (req, socket) => {
        acceptWebSocket(req, socket);
        socket.write(Buffer.concat([textFrameHeader(2 ** 40), Buffer.alloc(256 * 1024, 0x61)]));
      },
    });
    targets.push(target);
    const client = await clientFor(target);
    await expect(client.start()).rejects.toThrow(/1009|max payload|closed/i);
    await client.close();
    expect((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toBeLessThan(200);
  });

  it('non-JSON and truncated frames are reported as invalid_frame anomalies, and a socket cut mid-frame is resumed', async () => {
    let connection = 0;
    const target = await startHostileTarget({
      http: (_req, res) => res.writeHead(404).end(),
      upgrade: (req, socket) => {
        connection += 1;
        acceptWebSocket(req, socket);
        socket.write(textFrame(subscribed));
        socket.write(textFrame('<html>not json</html>'));
        socket.write(textFrame('{"type":"update_batch","updates":[{"topic":'));
        // The first connection is cut in the middle of a frame.
        if (connection === 1) setTimeout(() => socket.end(Buffer.concat([textFrameHeader(300), Buffer.from('{"type":"heartbeat"')])), 30);
      },
    });
    targets.push(target);
    const client = await clientFor(target);
    await client.start();
    for (let i = 0; i < 60 && client.connections < 2; i++) await sleep(50);
    expect(client.connections, 'the client reconnected after the cut').toBeGreaterThanOrEqual(2);
    expect(client.anomalies.filter((a) => a.kind === 'invalid_frame').length).toBeGreaterThanOrEqual(2);
    expect(client.anomalies.some((a) => a.kind === 'disconnect')).toBe(true);
    await client.close();
  });

  // Regression: KhalaClient used to open its socket without a handshake deadline, so start()
  // against an upgrade that never answered waited forever.
  it('start() against an upgrade that never answers rejects within a handshake deadline', async () => {
    const target = await startHostileTarget({ http: () => {}, upgrade: () => {} });
    targets.push(target);
    const client = await clientFor(target);
    const outcome = await Promise.race([client.start().then(() => 'open', () => 'rejected'), sleep(6000).then(() => 'still waiting')]);
    await client.close();
    expect(outcome).toBe('rejected');
  });
});
