export {
  checkEnvFiles,
  type EnvCheckResult,
  type EnvFileInput,
  type EnvFileResult,
  expectedConfigFingerprint,
  formatEnvCheck,
  type IsolationViolation,
  readEnvFile,
} from './check-env-files.ts';
