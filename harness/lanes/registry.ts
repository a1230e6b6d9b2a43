/**
 * Every lane this harness has, in run order, each declaring its inputs and whether it is
 * required by default (harness/lanes/lane.ts). harness/run-gate.ts plans a run from this
 * list alone.
 */
import type { Lane } from '../../contracts/generated/report.ts';
import { contractLane } from './contract-lane.ts';
import { creditLane } from './credit-lane.ts';
import { driftLane } from './drift-lane.ts';
import { envLane } from './env-lane.ts';
import { healthLane } from './health-lane.ts';
import { khalaLane } from './khala-lane.ts';
import type { LaneDefinition } from './lane.ts';
import { observabilityLane } from './observability-lane.ts';
import { parityLane } from './parity-lane.ts';
import { rolesLane } from './roles-lane.ts';

export const LANES: readonly LaneDefinition[] = [
  { id: 'health', needs: [], requiredByDefault: true, checks: () => healthLane() },
  { id: 'contract', needs: [], requiredByDefault: true, checks: () => contractLane() },
  { id: 'khala', needs: [], requiredByDefault: true, checks: (inputs) => khalaLane(inputs) },
  { id: 'parity', needs: ['baseline'], requiredByDefault: false, checks: (inputs) => parityLane(inputs) },
  { id: 'credit', needs: [], requiredByDefault: true, checks: () => creditLane() },
  { id: 'drift', needs: ['db_url'], requiredByDefault: false, checks: (inputs) => driftLane(inputs) },
  { id: 'roles', needs: ['db_url'], requiredByDefault: false, checks: () => rolesLane() },
  { id: 'env', needs: ['env_file'], requiredByDefault: false, checks: (inputs) => envLane(inputs) },
  { id: 'observability', needs: [], requiredByDefault: true, checks: () => observabilityLane() },
];

export const ALL_LANES: Lane[] = LANES.map((lane) => lane.id);

export function laneDefinition(id: Lane): LaneDefinition {
  const lane = LANES.find((candidate) => candidate.id === id);
  if (!lane) throw new Error(`no lane ${id}`);
  return lane;
}
