/**
 * K3's oracle: every observation of one `(topic, seq)` (write response, live and
 * replayed WS updates, HTTP poll, SSE, other nodes) must carry the same
 * payload_hash, and that hash must be the one recomputed from the payload.
 * Checks of a run share one ledger and report to it; the K3 check reads the result.
 */
import { payloadHash } from '../../contracts/payload-hash.ts';

export interface Observation {
  topic: string;
  seq: number;
  payload_hash: string;
  /** When the surface carried the payload, the hash is recomputed from it. */
  payload?: unknown;
}

export class ObservationLedger {
  private readonly seen = new Map<string, Map<number, { hash: string; source: string }>>();
  /** Every disagreement, in the order found (capped at 50 kept; `conflictCount` counts all). */
  readonly conflicts: string[] = [];
  conflictCount = 0;
  observations = 0;

  record(source: string, observation: Observation): void {
    this.observations += 1;
    const { topic, seq, payload_hash: hash } = observation;
    if (observation.payload !== undefined) {
      const recomputed = payloadHash(observation.payload);
      if (recomputed !== hash) this.conflict(`${source}: ${topic} seq ${seq} carries payload_hash ${hash} but its payload hashes to ${recomputed}`);
    }
    let topicSeen = this.seen.get(topic);
    if (!topicSeen) {
      topicSeen = new Map();
      this.seen.set(topic, topicSeen);
    }
    const first = topicSeen.get(seq);
    if (!first) topicSeen.set(seq, { hash, source });
    else if (first.hash !== hash) this.conflict(`${topic} seq ${seq}: ${first.source} saw ${first.hash}, ${source} saw ${hash}`);
  }

  recordAll(source: string, observations: Iterable<Observation>): void {
    for (const observation of observations) this.record(source, observation);
  }

  get topics(): number {
    return this.seen.size;
  }

  private conflict(message: string): void {
    this.conflictCount += 1;
    if (this.conflicts.length < 50) this.conflicts.push(message);
  }
}
