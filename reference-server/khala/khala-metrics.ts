/**
 * Khala delivery counters: Prometheus series for /metrics (SPEC §2.1) and per-topic
 * windows for /internal/v1/khala/fanout/metrics.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TopicClass } from '../../contracts/generated/khala-frames.ts';
import { topicClassOf } from './topics.ts';

export interface TopicCounters {
  deliveries: number;
  replays: number;
  stale_cursors: number;
  subscriptions: number;
}

/** Per-topic counters are kept for at most this many topics (least recently touched dropped first). */
const MAX_TRACKED_TOPICS = 1000;

export class KhalaMetrics {
  readonly deliveries: Counter<'topic_class'>;
  readonly replays: Counter<'topic_class'>;
  readonly staleCursors: Counter<'reason_code'>;
  readonly evictions: Counter<'reason'>;
  readonly connections: Gauge;
  readonly subscriptions: Gauge;
  private readonly topics = new Map<string, TopicCounters>();
  totals = { deliveries: 0, replays: 0, stale_cursors: 0, evictions: 0 };

  constructor(registry: Registry) {
    this.deliveries = new Counter({ name: 'khala_deliveries_total', help: 'Updates delivered to subscribers (live and replay), by topic class.', labelNames: ['topic_class'], registers: [registry] });
    this.replays = new Counter({ name: 'khala_replays_total', help: 'Resumes that replayed history, by topic class.', labelNames: ['topic_class'], registers: [registry] });
    this.staleCursors = new Counter({ name: 'khala_stale_cursors_total', help: 'stale_cursor answers, by reason code.', labelNames: ['reason_code'], registers: [registry] });
    this.evictions = new Counter({ name: 'khala_evictions_total', help: 'Sockets closed by the server, by reason.', labelNames: ['reason'], registers: [registry] });
    this.connections = new Gauge({ name: 'khala_connections', help: 'Open Khala WebSocket connections.', registers: [registry] });
    this.subscriptions = new Gauge({ name: 'khala_subscriptions', help: 'Active topic subscriptions (WebSocket and SSE).', registers: [registry] });
  }

  topic(topic: string): TopicCounters {
    let counters = this.topics.get(topic);
    if (counters) {
      this.topics.delete(topic);
    } else {
      counters = { deliveries: 0, replays: 0, stale_cursors: 0, subscriptions: 0 };
      if (this.topics.size >= MAX_TRACKED_TOPICS) this.topics.delete(this.topics.keys().next().value as string);
    }
    this.topics.set(topic, counters);
    return counters;
  }

  trackedTopics(): Map<string, TopicCounters> {
    return this.topics;
  }

  delivered(topic: string, count: number): void {
    const cls: TopicClass = topicClassOf(topic);
    this.deliveries.inc({ topic_class: cls }, count);
    this.totals.deliveries += count;
    this.topic(topic).deliveries += count;
  }

  replayed(topic: string): void {
    this.replays.inc({ topic_class: topicClassOf(topic) });
    this.totals.replays += 1;
    this.topic(topic).replays += 1;
  }

  stale(topic: string, reasons: string[]): void {
    for (const reason of reasons) this.staleCursors.inc({ reason_code: reason });
    this.totals.stale_cursors += 1;
    this.topic(topic).stale_cursors += 1;
  }

  evicted(reason: string): void {
    this.evictions.inc({ reason });
    this.totals.evictions += 1;
  }
}
