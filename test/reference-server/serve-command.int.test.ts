/**
 * `runtime-gate serve` as a real process: the embedded database in dev with no
 * environment at all, exit 78 on a bad prod environment, graceful SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';

const BIN = join(PACKAGE_ROOT, 'bin', 'runtime-gate.mjs');
const minimalEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function waitForListening(child: ChildProcess, timeoutMs: number): Promise<{ url: string; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`serve did not listen within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string };
          if (parsed.msg === 'reference server listening' && parsed.url) {
            clearTimeout(timer);
            resolve({ url: parsed.url, lines });
          }
        } catch {
          // non-JSON output is collected for the failure message only
        }
        newline = buffer.indexOf('\n');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${lines.join('\n')}`));
    });
  });
}

describe('runtime-gate serve', () => {
  it('with no environment at all starts an embedded PostgreSQL, migrates it, is ready, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'runtime-gate-serve-'));
    dirs.push(dataDir);
    chmodSync(dataDir, 0o755);
    const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0'], { env: minimalEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      const { url, lines } = await waitForListening(child, 30_000);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.some((l) => l.includes('RUNTIME_ENV is unset'))).toBe(true);
      const healthz = await fetch(`${url}/healthz`);
      expect(healthz.status).toBe(200);
      const readyz = await fetch(`${url}/readyz`);
      expect(readyz.status).toBe(200);
      expect(existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);
      const postmasterPid = Number(readFileSync(join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);

      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(() => process.kill(postmasterPid, 0), 'the embedded postmaster stopped with the server').toThrow();
      expect(stderr).not.toMatch(/Error/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('with RUNTIME_ENV=prod and nothing else exits 78 naming every missing variable on stderr', () => {
    const result = spawnSync(process.execPath, [BIN, 'serve'], { env: { ...minimalEnv, RUNTIME_ENV: 'prod' }, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(78);
    for (const name of [
      'RUNTIME_BIND_ADDR', 'RUNTIME_BUILD_SHA', 'RUNTIME_INSTANCE_ID', 'RUNTIME_AUTHORITY_WRITE_MODE', 'DATABASE_URL', 'RUNTIME_DATA_DIR',
      'RUNTIME_INTERNAL_TOKEN', 'RUNTIME_SYNC_TOKEN_SIGNING_KEY', 'RUNTIME_SYNC_TOKEN_ISSUER', 'RUNTIME_SYNC_TOKEN_AUDIENCE', 'ENABLE_AUDIT_LOGGING', 'LOG_LEVEL',
    ]) {
      expect(result.stderr).toContain(`${name}: required in prod`);
    }
  });

  it('exits 78 on an invalid value without printing the secret', () => {
    const result = spawnSync(process.execPath, [BIN, 'serve'], {
      env: { ...minimalEnv, RUNTIME_INTERNAL_TOKEN: 'short-secret-value', RUNTIME_TYPO_VAR: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('RUNTIME_INTERNAL_TOKEN: at least 32 characters');
    expect(result.stderr).toContain('RUNTIME_TYPO_VAR: unknown variable');
    expect(result.stderr).not.toContain('short-secret-value');
  });
});
