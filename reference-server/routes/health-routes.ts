/**
 * Health, readiness, service identity and the served contract (SPEC §2.1).
 */
import type { Pool } from 'pg';
import { loadContractMigrations } from '../../contracts/contract-files.ts';
import type { OpenApiContract } from '../../contracts/openapi-operations.ts';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import { readLedgerState } from '../db/migration-ledger.ts';
import type { OperationHandler } from '../http/route-table.ts';
import { PACKAGE_VERSION } from '../package-version.ts';

export interface HealthRouteDeps {
  pool: Pool;
  config: RuntimeConfig;
  contract: OpenApiContract;
}

export function healthRoutes({ pool, config, contract }: HealthRouteDeps): Record<string, OperationHandler> {
  // The contract migrations are read and hashed once, not on every probe of /readyz.
  const migrations = loadContractMigrations();
  return {
    getHealthz: async () => ({
      status: 200,
      body: { status: 'ok', service: config.serviceName, build_sha: config.buildSha, authority_write_mode: config.writeMode },
    }),

    getReadyz: async () => {
      let ledger: Awaited<ReturnType<typeof readLedgerState>>;
      try {
        ledger = await readLedgerState(pool, migrations);
      } catch {
        return { status: 503, body: { status: 'not_ready', reasons: ['database_unavailable'] } };
      }
      if (ledger.reasons.length > 0) return { status: 503, body: { status: 'not_ready', reasons: ledger.reasons } };
      return { status: 200, body: { status: 'ready', schema_version: ledger.schemaVersion } };
    },

    getInternalHealth: async () => {
      let schemaVersion: string | null = null;
      let healthy = true;
      try {
        const ledger = await readLedgerState(pool, migrations);
        schemaVersion = ledger.schemaVersion;
        healthy = ledger.reasons.length === 0;
      } catch {
        healthy = false;
      }
      return {
        status: 200,
        body: {
          status: healthy ? 'ok' : 'degraded',
          service: config.serviceName,
          version: PACKAGE_VERSION,
          build_sha: config.buildSha,
          authority_write_mode: config.writeMode,
          schema_version: schemaVersion,
          config_fingerprint: config.configFingerprint,
          payment_backend: config.credit.paymentBackend,
        },
      };
    },

    getOpenApiDocument: async () => ({ status: 200, body: contract.bundled }),
  };
}
