/**
 * `npm run gate`: start the reference server on the embedded PostgreSQL, run every
 * implemented lane against it with runGate, write the report, print the decision and
 * the report path, exit 0 on GO.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../contracts/contract-files.ts';
import { runGate } from '../harness/run-gate.ts';
import { runtimeEnvSchema } from '../reference-server/config/runtime-env.ts';
import { serve } from '../reference-server/main.ts';

const started = Date.now();
const stateDir = join(PACKAGE_ROOT, '.runtime-gate');
const dataDir = join(stateDir, 'gate');
mkdirSync(dataDir, { recursive: true });
chmodSync(stateDir, 0o755);
chmodSync(dataDir, 0o755);
const devDefault = (name: string) => String(runtimeEnvSchema.properties[name]!['x-dev-default']);
const running = await serve({ env: { RUNTIME_ENV: 'dev', LOG_LEVEL: 'warn', RUNTIME_BUILD_SHA: 'dev' }, dataDir, port: 0 });
if ('exitCode' in running) {
  process.exitCode = 2;
} else {
  try {
    console.log(`gate: reference server on ${running.url} (embedded PostgreSQL in ${dataDir})`);
    const tty = process.stdout.isTTY;
    const result = await runGate({
      candidate: {
        name: 'reference',
        base_url: running.url,
        internal_token: devDefault('RUNTIME_INTERNAL_TOKEN'),
        sync_signing_key: devDefault('RUNTIME_SYNC_TOKEN_SIGNING_KEY'),
        expected_build_sha: 'dev',
        profile: 'live',
      },
      onProgress: (line) => console.log(`gate: ${line}`),
      onCheckFinished: (check) => {
        const mark = tty ? { passed: '\u001b[32m✓\u001b[0m', failed: '\u001b[31m✗\u001b[0m', error: '\u001b[31m!\u001b[0m', skipped: '-' }[check.status] : check.status.toUpperCase();
        console.log(`${mark} ${check.check_id} (${check.required}, ${check.duration_ms} ms)${check.status === 'passed' ? '' : `: ${check.detail}`}`);
      },
    });
    console.log(`gate: ${result.report.decision}: ${result.report.decision_reason} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    console.log(`gate: report ${result.dir}`);
    console.log(result.evidence);
    process.exitCode = result.exitCode;
  } finally {
    await running.stop();
  }
}
