/**
 * Secrets never leak (issue 9 §5): two `runtime-gate serve` processes (candidate and
 * baseline) run with distinctive internal tokens, sync signing keys and database passwords;
 * `runtime-gate validate` runs every lane against them with the secrets in RUNTIME_GATE_*
 * variables. No secret — raw, URL-encoded or base64 — appears in any file of the report
 * folder, in the validate output, or in the servers' logs (debug level).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../contracts/contract-files.ts';
import { migrate } from '../../reference-server/db/migrate.ts';
import { createPool } from '../../reference-server/db/pool.ts';
import { findFreePort, killAllChildren, type ServerProcess, spawnServer } from '../reliability/process-support.ts';
import { adminUrl, createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const tag = randomBytes(6).toString('hex');
const role = `rg_secret_${tag}`;
const dbPassword = `dbpw-${tag}-Zq8xPassword`;
const candidateSecrets = { token: `itok-candidate-${tag}-${randomBytes(16).toString('hex')}`, key: `skey-candidate-${tag}-${randomBytes(16).toString('hex')}` };
const baselineSecrets = { token: `itok-baseline-${tag}-${randomBytes(16).toString('hex')}`, key: `skey-baseline-${tag}-${randomBytes(16).toString('hex')}` };
const SECRETS = [dbPassword, candidateSecrets.token, candidateSecrets.key, baselineSecrets.token, baselineSecrets.key];

let db: TestDatabase;
/** The baseline gets a database of its own: parity's seeded writes must not collide. */
let baselineDb: TestDatabase;
let roleUrl: string;
let baselineRoleUrl: string;
const servers: ServerProcess[] = [];
const dirs: string[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('secrets');
  baselineDb = await createTestDatabase('secrets_baseline');
  await admin(async (client) => {
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${dbPassword}'`);
    await client.query(`ALTER DATABASE "${db.name}" OWNER TO ${role}`);
    await client.query(`ALTER DATABASE "${baselineDb.name}" OWNER TO ${role}`);
  });
  const asRole = (database: TestDatabase) => {
    const url = new URL(database.url);
    url.username = role;
    url.password = dbPassword;
    return url.toString();
  };
  roleUrl = asRole(db);
  baselineRoleUrl = asRole(baselineDb);
  for (const url of [roleUrl, baselineRoleUrl]) {
    const pool = createPool(url, { max: 2 });
    try {
      await migrate(pool, { buildSha: 'dev' });
    } finally {
      await pool.end();
    }
  }

  const env = (secrets: { token: string; key: string }, databaseUrl: string) => ({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'debug', RUNTIME_INTERNAL_TOKEN: secrets.token, RUNTIME_SYNC_TOKEN_SIGNING_KEY: secrets.key, RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '100000' });
  servers.push(await spawnServer(env(candidateSecrets, roleUrl), await findFreePort()), await spawnServer(env(baselineSecrets, baselineRoleUrl), await findFreePort()));
}, 60_000);
afterAll(async () => {
  for (const server of servers) await server.stop().catch(() => {});
  killAllChildren();
  await db?.drop();
  await baselineDb?.drop();
  await admin((client) => client.query(`DROP ROLE IF EXISTS ${role}`)).catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every form a secret could leak in. */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'), JSON.stringify(secret).slice(1, -1)];
}

function leaks(where: string, text: string): string[] {
  return SECRETS.flatMap((secret) => forms(secret).filter((form) => text.includes(form)).map((form) => `${where} contains ${form === secret ? 'the secret' : 'an encoded form of the secret'} ${secret.slice(0, 12)}…`));
}

describe('secrets in a full gate run', () => {
  it('no token, signing key or database password appears in any report artifact, the CLI output or the server logs', async () => {
    const [candidate, baseline] = servers as [ServerProcess, ServerProcess];
    const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-secrets-'));
    dirs.push(dir);
    const out = join(dir, 'report');
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'runtime-gate.mjs'), 'validate', '--out', out, '--check-timeout-ms', '10000', '--run-timeout-ms', '60000'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        RUNTIME_GATE_TARGET_URL: candidate.url,
        RUNTIME_GATE_INTERNAL_TOKEN: candidateSecrets.token,
        RUNTIME_GATE_SYNC_SIGNING_KEY: candidateSecrets.key,
        RUNTIME_GATE_DB_URL: roleUrl,
        RUNTIME_GATE_EXPECTED_BUILD_SHA: 'dev',
        RUNTIME_GATE_BASELINE_URL: baseline.url,
        RUNTIME_GATE_BASELINE_INTERNAL_TOKEN: baselineSecrets.token,
        RUNTIME_GATE_BASELINE_SYNC_SIGNING_KEY: baselineSecrets.key,
        RUNTIME_GATE_BASELINE_DB_URL: baselineRoleUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Two correct reference servers whose database was never given the DB role policy (roles
    // are cluster-wide, and applying them would take this test's login role off the schema):
    // the roles lane is the only one that fails, so the secrets were used all the way through.
    expect(code, `validate exited ${code}:\n${output.slice(-2000)}`).toBe(1);

    const files = filesUnder(out);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(expect.arrayContaining(['report.json', 'results.tsv', 'SUMMARY.md', 'junit.xml', 'report.html', 'MANIFEST.sha256']));
    expect(files.filter((f) => f.includes(`${join(out, 'logs')}`)).length, 'per-check evidence logs were written').toBeGreaterThan(20);
    const found = [
      ...files.flatMap((file) => leaks(file.slice(out.length + 1), readFileSync(file, 'latin1'))),
      ...leaks('validate output', output),
      ...leaks('candidate server log', candidate.lines.join('\n')),
      ...leaks('baseline server log', baseline.lines.join('\n')),
    ];
    expect(found).toEqual([]);
    // The run did exercise the secrets: authenticated checks passed and the DB lanes ran.
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { checks: { check_id: string; status: string; lane: string }[] };
    expect(report.checks.find((c) => c.check_id === 'health.internal.schema')?.status).toBe('passed');
    const notPassed = report.checks.filter((c) => c.status !== 'passed' && !(c.status === 'skipped' && (c as { required?: string }).required === 'optional'));
    expect(notPassed.length).toBeGreaterThan(0);
    expect(notPassed.filter((c) => c.lane !== 'roles').map((c) => `${c.check_id} ${c.status}`)).toEqual([]);
    expect(report.checks.some((c) => c.lane === 'drift' && c.status !== 'skipped')).toBe(true);
    expect(candidate.lines.length).toBeGreaterThan(50);
  }, 120_000);
});
