/**
 * The env lane (SPEC §4 "env", seed 002): the env files given to the gate are valid for
 * their profiles, DEV and PROD share no state, and the target's config_fingerprint
 * (GET /internal/v1/health) is the one its env file yields. Secret values never appear.
 */
import { type CheckDefinition, CheckSkip, expectThat } from '../check-runner.ts';
import { checkEnvFiles, type EnvCheckResult, expectedConfigFingerprint } from '../env/check-env-files.ts';
import type { LaneInputs } from './lane.ts';

/** The file the target was started from: its `env_file`, else the only env file given. */
function targetEnvFile(inputs: Pick<LaneInputs, 'candidate' | 'envFiles'> | undefined): string | undefined {
  return inputs?.candidate.env_file ?? (inputs?.envFiles?.length === 1 ? inputs.envFiles[0] : undefined);
}

export function envLane(inputs?: Pick<LaneInputs, 'candidate' | 'envFiles'>): CheckDefinition[] {
  const files = inputs?.envFiles ?? [];
  // Read and validated once, when the lane is built: the profiles decide which checks are optional.
  const checked: EnvCheckResult | undefined = files.length > 0 ? checkEnvFiles(files.map((path) => ({ path }))) : undefined;
  const result = (): EnvCheckResult => {
    if (!checked) throw new CheckSkip('missing_input:env_file');
    return checked;
  };
  // Isolation needs a dev and a prod file; with fewer it is reported as skipped and optional.
  const profiles = checked?.files.map((f) => f.profile) ?? [];
  const bothProfiles = profiles.includes('dev') && profiles.includes('prod');
  const fingerprintFile = targetEnvFile(inputs);
  return [
    {
      id: 'env.schema.valid',
      lane: 'env',
      description: 'each env file is valid for its profile against contracts/runtime-env.schema.json',
      async run({ log }) {
        const { files: results } = result();
        const lines = results.flatMap((f) => f.violations.map((v) => `${f.path} (${f.profile}): ${v.variable}: ${v.rule}${v.hint ? ` (${v.hint})` : ''}`));
        for (const line of lines) log(line);
        expectThat(lines.length === 0, `${lines.length} violation(s): ${lines.join('; ')}`);
        return results.map((f) => `${f.path} (${f.profile})`).join(', ');
      },
    },
    {
      id: 'env.isolation.dev-prod',
      lane: 'env',
      description: 'DEV and PROD share no database, instance id, persistence path or signing key (seed 002)',
      optional: !bothProfiles,
      async run() {
        const checkedResult = result();
        if (!checkedResult.isolationChecked) throw new CheckSkip('missing_input:env_file (needs a dev and a prod env file)');
        expectThat(checkedResult.isolation.length === 0, `${checkedResult.isolation.length} shared value(s): ${checkedResult.isolation.map((v) => v.message).join('; ')}`);
      },
    },
    {
      id: 'env.fingerprint.target',
      lane: 'env',
      description: "the target's config_fingerprint equals the one computed from its env file",
      optional: !fingerprintFile,
      async run({ http, log }) {
        const path = fingerprintFile;
        if (!path) throw new CheckSkip('missing_input:env_file (the target has no env_file and more than one env file was given)');
        const expected = checked?.files.find((f) => f.path === path)?.configFingerprint ?? expectedConfigFingerprint(path);
        const r = await http.request({ method: 'GET', path: '/internal/v1/health' });
        expectThat(r.status === 200, `GET /internal/v1/health: expected 200, got ${r.status}`);
        const actual = r.json?.config_fingerprint;
        log(`config_fingerprint: target ${actual}, ${path} ${expected}`);
        expectThat(actual === expected, `config_fingerprint ${JSON.stringify(actual)} on the target, ${expected} from ${path}: the target does not run the configuration of its env file`);
        return `config_fingerprint=${expected}`;
      },
    },
  ];
}
