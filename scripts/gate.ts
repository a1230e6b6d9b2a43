/**
 * `npm run gate`: start the reference server on the embedded PostgreSQL and check it.
 *
 * Today this runs the checks that exist (contract lint, the seed-000 smoke probe:
 * health, readiness, authority path); the lane runner with report folders is the
 * harness-core issue, which replaces the body of this script with runGate().
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../contracts/contract-files.ts';
import { lintContracts } from '../harness/contract/lint-contracts.ts';
import { runSmoke } from '../harness/smoke.ts';
import { serve } from '../reference-server/main.ts';

const started = Date.now();
const dataDir = join(PACKAGE_ROOT, '.runtime-gate', 'gate');
mkdirSync(dataDir, { recursive: true });
chmodSync(join(PACKAGE_ROOT, '.runtime-gate'), 0o755);
chmodSync(dataDir, 0o755);
const env = { RUNTIME_ENV: 'dev', LOG_LEVEL: 'warn', RUNTIME_BUILD_SHA: 'dev' };
const running = await serve({ env, dataDir, port: 0 });
if ('exitCode' in running) {
  process.exitCode = 2;
} else {
  let go = false;
  try {
    console.log(`gate: reference server on ${running.url} (embedded PostgreSQL in ${dataDir})`);
    const findings = await lintContracts();
    console.log(`${findings.length === 0 ? 'ok  ' : 'FAIL'} contract.lint: ${findings.length === 0 ? 'contracts lint clean' : findings.map((f) => `${f.contract}: ${f.message}`).join('; ')}`);
    const smoke = await runSmoke({ baseUrl: running.url, internalToken: 'runtime-gate-dev-internal-token-not-for-prod' });
    for (const step of smoke.steps) console.log(`${step.ok ? 'ok  ' : 'FAIL'} smoke.${step.name}: ${step.detail}`);
    go = findings.length === 0 && smoke.ok;
  } finally {
    await running.stop();
  }
  console.log(`gate: ${go ? 'GO' : 'NO-GO'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  process.exitCode = go ? 0 : 1;
}
