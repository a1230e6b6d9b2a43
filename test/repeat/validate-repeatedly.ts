/**
 * Evidence that the verdict is stable: starts `runtime-gate serve` as a separate process
 * (embedded PostgreSQL), then runs `runtime-gate validate` (default lanes,
 * `--expected-build-sha dev`) against it N times back to back — directly and through the
 * fault-injecting reverse proxy of test/support/khala-fault-reverse-proxy.ts (frames
 * duplicated, reordered, or connections cut: transport behaviour contracts/KHALA_ORDERING.md
 * K2 allows) — and prints every run's exit code and decision. Exit 0 only when every run
 * was GO. Not part of `npm test` (minutes of runs); run it by hand:
 *
 *   npx tsx test/repeat/validate-repeatedly.ts --runs 10 --modes direct,duplicate,reorder,cut
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';
import { devDefault } from '../../reference-server/config/runtime-env.ts';
import { type ReverseFaultPlan, startKhalaFaultReverseProxy } from '../support/khala-fault-reverse-proxy.ts';

const PLANS: Record<string, ReverseFaultPlan | undefined> = {
  direct: undefined,
  duplicate: { seed: 3, duplicate: 0.5 },
  reorder: { seed: 5, reorder: 0.4 },
  // Cuts never run out: every run of the series meets them (the proxy's default stops after 20).
  cut: { seed: 7, cutAfterFrames: [2, 6], cutWith: ['terminate', 1001, 1011, 1012], maxCuts: 1_000_000 },
};

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, modes: { type: 'string', default: 'direct,duplicate,reorder,cut' } } });
const runs = Number(values.runs);
const modes = values.modes.split(',').map((m) => m.trim());
for (const mode of modes) if (!(mode in PLANS)) throw new Error(`unknown mode ${mode} (modes: ${Object.keys(PLANS).join(', ')})`);

const work = mkdtempSync(join(tmpdir(), 'runtime-gate-repeat-'));
chmodSync(work, 0o755); // the embedded PostgreSQL runs as the postgres user when we are root
const bin = join(PACKAGE_ROOT, 'bin', 'runtime-gate.mjs');

function startServe(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, 'serve', '--data-dir', join(work, 'serve'), '--port', '0'], {
    env: { ...process.env, RUNTIME_ENV: 'dev', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('serve did not listen within 120 s')), 120_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (const line of buffered.split('\n')) {
        if (!line.includes('reference server listening')) continue;
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url });
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code} before listening`)));
  });
}

function validate(url: string, out: string): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const args = ['validate', '--target', url, '--internal-token', devDefault('RUNTIME_INTERNAL_TOKEN'), '--sync-signing-key', devDefault('RUNTIME_SYNC_TOKEN_SIGNING_KEY'), '--expected-build-sha', 'dev', '--out', out];
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, ms: Date.now() - started })));
}

const serve = await startServe();
let failures = 0;
try {
  for (const mode of modes) {
    const plan = PLANS[mode];
    const proxy = plan ? await startKhalaFaultReverseProxy(serve.url, plan) : undefined;
    const url = proxy?.url ?? serve.url;
    const outcomes: string[] = [];
    for (let i = 1; i <= runs; i++) {
      const out = join(work, `${mode}-${i}`);
      const { code, ms } = await validate(url, out);
      let decision = 'no report';
      let blocking = '';
      try {
        const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { decision: string; decision_reason: string; totals: Record<string, number> };
        decision = `${report.decision} (${report.totals.passed} passed, ${report.totals.failed} failed, ${report.totals.error} error, ${report.totals.skipped} skipped)`;
        if (report.decision !== 'GO') blocking = ` — ${report.decision_reason}`;
      } catch {
        // no report folder: the exit code says why
      }
      if (code !== 0) failures += 1;
      outcomes.push(`${mode} run ${i}: exit ${code} ${decision} in ${(ms / 1000).toFixed(1)} s${blocking}`);
      console.log(outcomes.at(-1));
    }
    if (proxy) {
      const c = proxy.counts;
      console.log(`${mode}: proxy forwarded ${c.forwarded} frames over ${c.connections} WebSocket connections: ${c.duplicated} duplicated, ${c.reordered} reordered, ${c.cuts} cut (${[...new Set(c.cutCodes)].join(', ') || 'none'})`);
      await proxy.close();
    }
    console.log(`${mode}: ${outcomes.filter((o) => o.includes('exit 0 GO')).length} of ${runs} GO`);
  }
} finally {
  serve.child.kill('SIGTERM');
  await new Promise((resolve) => serve.child.once('exit', resolve));
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failures === 0 ? 0 : 1;
