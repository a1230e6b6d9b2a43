/**
 * The `test` profile the khala lane's boundary checks need: a reference server
 * started with small run_events budgets and retention, fast heartbeats and a low
 * publish rate, and the target spec that declares it.
 */
import { KHALA_TEST_PROFILE_ENV as KHALA_DEFAULT_TEST_PROFILE } from '../../harness/khala/test-profile.ts';
import type { TargetSpec } from '../../harness/target.ts';

export const KHALA_TEST_REVOKED_JTI = 'runtime-gate-test-revoked-jti';

export const KHALA_TEST_PROFILE_ENV: Record<string, string> = { ...KHALA_DEFAULT_TEST_PROFILE, RUNTIME_SYNC_REVOKED_JTIS: KHALA_TEST_REVOKED_JTI };

export function khalaTestTarget(extra: Partial<TargetSpec> = {}): Partial<TargetSpec> {
  return { profile: 'test', khala_threat: { allowed_origin: 'https://openagents.com', revoked_jti: KHALA_TEST_REVOKED_JTI }, ...extra };
}
