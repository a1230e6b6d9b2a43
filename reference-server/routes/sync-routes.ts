/**
 * Sync token minting (a stand-in for the control service's token endpoint) and
 * session revocation (SPEC §2.1 "Khala operations").
 */
import type { components } from '../../contracts/generated/runtime-api.ts';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import type { OperationHandler } from '../http/route-table.ts';
import type { KhalaGateway } from '../khala/khala-gateway.ts';
import type { RevocationStore } from '../khala/revocation-store.ts';
import { mintSyncToken } from '../khala/sync-token.ts';

type SyncTokenRequest = components['schemas']['SyncTokenRequest'];
type SyncSessionRevokeRequest = components['schemas']['SyncSessionRevokeRequest'];

export function syncRoutes(deps: { config: RuntimeConfig; revocations: RevocationStore; gateway: KhalaGateway }): Record<string, OperationHandler> {
  return {
    mintSyncToken: async ({ body }) => ({ status: 200, body: await mintSyncToken(deps.config.sync, body as SyncTokenRequest) }),

    revokeSyncSessions: async ({ body }) => {
      const request = body as SyncSessionRevokeRequest;
      const notice = { session_ids: request.session_ids ?? [], device_ids: request.device_ids ?? [] };
      // Evicted here at once (before the commit, so they are counted here); other instances
      // evict on the NOTIFY that revoke() sends.
      const evicted = await deps.revocations.revoke(notice, request.reason, () => deps.gateway.evictRevoked(notice));
      return { status: 200, body: { revoked_session_ids: notice.session_ids, revoked_device_ids: notice.device_ids, evicted_connections: evicted } };
    },
  };
}
