/**
 * The lane/check model and its runner (SPEC §4): every check has an id
 * `<lane>.<rule>.<name>`, a lane, required|optional, a status, a duration and an
 * evidence log. Every check runs under a deadline, and the whole run under another,
 * so a hung or garbage-answering target can never hang or crash the run.
 */
import { setMaxListeners } from 'node:events';
import type { Check, Lane, Status } from '../contracts/generated/report.ts';
import { logPathFor } from './report/index.ts';
import type { TargetSpec } from './target.ts';
import { type Exchange, TargetHttp } from './target-http.ts';

/** Thrown by a check whose target broke a rule: status `failed`. Anything else thrown is `error`. */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
}

/** Thrown to skip a check with a reason (e.g. `missing_input:expected_build_sha`). */
export class CheckSkip extends Error {
  override readonly name = 'CheckSkip';
}

export function fail(message: string): never {
  throw new CheckFailure(message);
}

export function expectThat(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

export interface CheckContext {
  target: TargetSpec;
  http: TargetHttp;
  log(line: string): void;
  /** Records violations in full: each line goes to the check's log and to `evidence` in report.json. */
  evidence(lines: readonly string[]): void;
  signal: AbortSignal;
  /** Probe identity for writes: owner and idempotency-key prefix. */
  probeId: string;
  run: RunState;
}

/** Facts shared between checks of one run (discovered once, used by several lanes). */
export interface RunState {
  exchanges: Exchange[];
  writeMode?: string;
  paymentBackend?: string;
  allowWrites: boolean;
  allowPayments: boolean;
  /** Latency samples per label, for the report's chart. */
  latencies: Record<string, number[]>;
  /** The target's 5xx counter in /metrics, scraped by the preflight before any lane ran. */
  metrics5xxBefore?: number;
  /** --no-writes was given (as opposed to a target that takes no writes). */
  noWrites?: boolean;
  [key: string]: unknown;
}

export type CheckPhase = 'first' | 'main' | 'last';

export interface CheckDefinition {
  id: string;
  lane: Lane;
  description: string;
  /** Default requiredness; the runner may make a required check optional (no writes, policy). */
  optional?: boolean;
  needsWrites?: boolean;
  phase?: CheckPhase;
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<string | undefined | void>;
}

export interface CheckOutcome {
  check: Check;
  log: string;
}

export interface RunChecksOptions {
  target: TargetSpec;
  run: RunState;
  probeId: string;
  defaultTimeoutMs?: number;
  /** Absolute deadline (ms since epoch) of the whole run. */
  runDeadline: number;
  /** Check ids that a policy made optional. */
  optionalChecks?: Set<string>;
  onCheckFinished?: (check: Check) => void;
  redact: (text: string) => string;
}

const PHASES: CheckPhase[] = ['first', 'main', 'last'];
/** Listeners one check's abort signal may have before Node warns of a leak (they are removed as requests end). */
const CHECK_SIGNAL_LISTENERS = 256;

export async function runChecks(definitions: CheckDefinition[], options: RunChecksOptions): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  const ordered = PHASES.flatMap((phase) => definitions.filter((d) => (d.phase ?? 'main') === phase));
  for (const definition of ordered) {
    const lines: string[] = [];
    const log = (line: string) => lines.push(`${new Date().toISOString()} ${line}`);
    const evidence: string[] = [];
    const recordEvidence = (found: readonly string[]) => {
      for (const line of found) {
        evidence.push(line);
        log(`violation: ${line}`);
      }
    };
    const started = performance.now();
    let status: Status = 'passed';
    let detail = '';
    let required = !(definition.optional || options.optionalChecks?.has(definition.id));
    const remaining = options.runDeadline - Date.now();
    if (definition.needsWrites && !options.run.allowWrites) {
      status = 'skipped';
      if (options.run.noWrites) {
        // The operator chose a read-only run: write checks are not part of this gate.
        required = false;
        detail = 'write check skipped: --no-writes';
      } else {
        // Writes are expected unless the operator says otherwise; a target that refuses them cannot pass them.
        detail = `write check not run: the target refuses writes (authority_write_mode ${options.run.writeMode}, not rust_active); give --no-writes to gate its read checks only`;
      }
    } else if (remaining <= 0) {
      status = 'error';
      detail = 'the whole-run deadline passed before this check could start';
    } else {
      const timeoutMs = Math.min(definition.timeoutMs ?? options.defaultTimeoutMs ?? 30_000, remaining);
      const controller = new AbortController();
      // Every concurrent request and socket of the check listens to it (K1 runs a dozen at once).
      setMaxListeners(CHECK_SIGNAL_LISTENERS, controller.signal);
      const http = new TargetHttp(options.target, options.run.exchanges, definition.id, controller.signal, log);
      const ctx: CheckContext = { target: options.target, http, log, evidence: recordEvidence, signal: controller.signal, probeId: options.probeId, run: options.run };
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`deadline exceeded: the check did not finish within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        detail = (await Promise.race([definition.run(ctx), deadline])) ?? '';
      } catch (error) {
        if (error instanceof CheckSkip) {
          status = 'skipped';
          detail = error.message;
        } else if (error instanceof CheckFailure) {
          status = 'failed';
          detail = error.message;
        } else {
          status = 'error';
          detail = error instanceof Error ? error.message : String(error);
        }
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
    }
    const durationMs = Math.round(performance.now() - started);
    log(`${status}${detail ? `: ${detail}` : ''}`);
    const check: Check = {
      check_id: definition.id,
      lane: definition.lane,
      required: required ? 'required' : 'optional',
      status,
      duration_ms: durationMs,
      description: definition.description,
      log_path: logPathFor(definition.id),
      detail: options.redact(detail),
      target: options.target.name,
      ...(evidence.length > 0 ? { evidence: evidence.map(options.redact) } : {}),
    };
    outcomes.push({ check, log: options.redact(`${lines.join('\n')}\n`) });
    options.onCheckFinished?.(check);
  }
  return outcomes;
}
