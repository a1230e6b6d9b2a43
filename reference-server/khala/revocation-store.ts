/**
 * Revoked sync sessions and devices (POST /internal/v1/sync/sessions/revoke), shared
 * by every instance through runtime.sync_revocations and a NOTIFY that evicts live
 * sockets on all of them.
 */
import type { Pool } from 'pg';
import type { SyncTokenClaims } from '../../contracts/generated/khala-frames.ts';
import { withTransaction } from '../db/transaction.ts';
import { REVOCATION_NOTIFY_CHANNEL, type RevocationNotice } from './khala-hub.ts';
import type { TokenRevocations } from './sync-token.ts';

export class RevocationStore implements TokenRevocations {
  constructor(private readonly pool: Pool) {}

  async isRevoked(claims: SyncTokenClaims): Promise<boolean> {
    if (!claims.sid && !claims.did) return false;
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM runtime.sync_revocations WHERE (kind = 'session' AND value = $1) OR (kind = 'device' AND value = $2) LIMIT 1`,
      [claims.sid ?? null, claims.did ?? null],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Records the revocation and notifies every instance at commit. `evictLocally` runs
   * before the commit, so this instance's own sockets are evicted (and counted) by the
   * caller rather than by its NOTIFY listener; a socket that connects meanwhile is
   * evicted by that NOTIFY. Returns what `evictLocally` returned.
   */
  async revoke(notice: RevocationNotice, reason: string, evictLocally: () => number = () => 0): Promise<number> {
    return withTransaction(this.pool, async (client) => {
      for (const [kind, values] of [['session', notice.session_ids], ['device', notice.device_ids]] as const) {
        for (const value of values) {
          await client.query(
            `INSERT INTO runtime.sync_revocations (kind, value, reason) VALUES ($1, $2, $3) ON CONFLICT (kind, value) DO NOTHING`,
            [kind, value, reason],
          );
        }
      }
      await client.query('SELECT pg_notify($1, $2)', [REVOCATION_NOTIFY_CHANNEL, JSON.stringify(notice)]);
      return evictLocally();
    });
  }
}
