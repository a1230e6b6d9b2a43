/**
 * The parity scenarios in their fixed order (the order of the `parity.scenario.*`
 * checks, which `--shard i/n` splits by index).
 */
import { cancelScenario } from './cancel.ts';
import { creditFlowScenario } from './credit-flow.ts';
import { happyPathScenario } from './happy-path.ts';
import { resumeDisconnectsScenario } from './resume-disconnects.ts';
import type { ParityScenario } from './scenario.ts';
import { staleCursorScenario } from './stale-cursor.ts';

export const PARITY_SCENARIOS: readonly ParityScenario[] = [happyPathScenario, cancelScenario, resumeDisconnectsScenario, staleCursorScenario, creditFlowScenario];

export type { ParityScenario, ScenarioInputs, ScenarioSide } from './scenario.ts';
