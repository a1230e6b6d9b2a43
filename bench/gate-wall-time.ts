/** `npm run gate` wall time (SPEC §6): spawned as a user runs it, timed from spawn to exit. */
import { spawn } from 'node:child_process';
import { ROOT_DIR } from './bench-support.ts';

export interface GateResult {
  wall_s: number;
  exit_code: number | null;
  decision: string | undefined;
  report: string | undefined;
}

export async function measureGateWallTime(timeoutMs = 300_000): Promise<GateResult> {
  const start = performance.now();
  const child = spawn('npm', ['run', '--silent', 'gate'], { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  const wall = (performance.now() - start) / 1000;
  return {
    wall_s: Number(wall.toFixed(1)),
    exit_code: code,
    decision: /gate: (GO|NO-GO)\b/.exec(output)?.[1],
    report: /gate: report (\S+)/.exec(output)?.[1],
  };
}
