/**
 * Drift guard between the scenarios and the lane's checks: one required check per
 * scenario (so --shard splits scenarios), check ids valid for report.json, the gate last,
 * boundary scenarios optional on live targets, everything optional in read-only mode.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contractPaths } from '../../contracts/contract-files.ts';
import { parityLane } from '../../harness/lanes/parity-lane.ts';
import { listChecks } from '../../harness/run-gate.ts';
import { PARITY_SCENARIOS } from '../../harness/scenarios/index.ts';
import type { TargetSpec } from '../../harness/target.ts';

const candidate: TargetSpec = { name: 'candidate', base_url: 'http://127.0.0.1:1' };
const baseline: TargetSpec = { name: 'baseline', base_url: 'http://127.0.0.1:2' };
const checkIdPattern = new RegExp(JSON.parse(readFileSync(contractPaths.reportSchema, 'utf8')).$defs.Check.properties.check_id.pattern);

describe('parityLane definitions', () => {
  it('one check per scenario in a fixed order, then the topic replay, then the gate (phase last)', () => {
    const checks = parityLane({ candidate, baseline, artifacts: new Map() });
    expect(checks.map((c) => c.id)).toEqual([...PARITY_SCENARIOS.map((s) => `parity.scenario.${s.name}`), 'parity.replay.existing-topics', 'parity.gate.decision']);
    for (const check of checks) expect(check.id).toMatch(checkIdPattern);
    expect(checks.at(-1)).toMatchObject({ phase: 'last' });
    expect(new Set(PARITY_SCENARIOS.map((s) => s.name)).size).toBe(PARITY_SCENARIOS.length);
  });

  it('stale-cursor is optional unless both targets are profile test; the topic replay is required once topics are given', () => {
    const live = parityLane({ candidate, baseline, artifacts: new Map() });
    expect(live.find((c) => c.id === 'parity.scenario.stale-cursor')?.optional).toBe(true);
    expect(live.find((c) => c.id === 'parity.replay.existing-topics')?.optional).toBe(true);
    const test = parityLane({ candidate: { ...candidate, profile: 'test', parity_topics: ['run:x:events'] }, baseline: { ...baseline, profile: 'test' }, artifacts: new Map() });
    expect(test.find((c) => c.id === 'parity.scenario.stale-cursor')?.optional).toBe(false);
    expect(test.find((c) => c.id === 'parity.replay.existing-topics')?.optional).toBe(false);
  });

  it('in read-only mode every scenario check is optional', () => {
    const checks = parityLane({ candidate, baseline, artifacts: new Map(), parityReadOnly: true });
    for (const check of checks.filter((c) => c.id.startsWith('parity.scenario.'))) expect(check.optional).toBe(true);
    expect(checks.find((c) => c.id === 'parity.gate.decision')?.optional).toBeFalsy();
  });

  it('validate --list-checks lists the parity checks', async () => {
    const lines = await listChecks();
    for (const scenario of PARITY_SCENARIOS) expect(lines.some((line) => line.startsWith(`parity.scenario.${scenario.name}\t`))).toBe(true);
    expect(lines.some((line) => line.startsWith('parity.gate.decision\t'))).toBe(true);
  });
});
