/**
 * Khala fan-out for one server instance: replay and live delivery to subscribers
 * (WebSocket sockets and SSE streams), driven by PostgreSQL LISTEN/NOTIFY with a
 * fallback poll so a lost notification cannot stall delivery (K9).
 *
 * Every subscription keeps `lastSentSeq` and only ever sends `lastSentSeq + 1 …`, so
 * replay and live delivery are one mechanism and the replay/live seam can neither
 * skip nor repeat a seq (K4). A subscription first catches up on its own by reading
 * the journal in bounded pages (streaming replay); once caught up it is fed from a
 * per-topic feed that reads each new journal row once for all its subscribers.
 *
 * @see contracts/KHALA_ORDERING.md#k4
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import type { KhalaMetrics } from './khala-metrics.ts';
import { type JournalUpdate, readJournalPage, recentCommittedUpdates } from './topic-journal.ts';
import { KHALA_NOTIFY_CHANNEL } from './topics.ts';

/** Updates per update_batch frame (replay and live). */
export const REPLAY_PAGE_SIZE = 500;
/**
 * Journal rows per catch-up read; each read is sent as frames of REPLAY_PAGE_SIZE while
 * the next read runs (one read ahead, so memory stays bounded at two reads per subscriber).
 */
export const CATCH_UP_READ_ROWS = 2000;
/** Recent updates a topic feed keeps for subscribers that are slightly behind. */
const FEED_BUFFER_SIZE = 4096;
export const REVOCATION_NOTIFY_CHANNEL = 'runtime_khala_revocations';

/** Where a subscription's updates go (a WebSocket or an SSE stream). */
export interface SubscriptionSink {
  /** Sends one batch of one topic, in seq order. Returns false when the sink is gone (closed or evicted). */
  deliver(topic: string, updates: JournalUpdate[], replayComplete: boolean): boolean;
}

export interface Subscription {
  readonly topic: string;
  lastSentSeq: number;
  /** Head at subscribe time while a resume's replay is still below it; undefined once live. */
  replayTarget: number | undefined;
  closed: boolean;
}

interface SubscriptionState extends Subscription {
  sink: SubscriptionSink;
  mode: 'catching_up' | 'live';
  pumping: boolean;
  dirty: boolean;
}

interface TopicFeed {
  topic: string;
  /** Highest seq fetched into the buffer; the buffer is contiguous and ends here. */
  lastFetched: number;
  buffer: JournalUpdate[];
  fetching: boolean;
  dirty: boolean;
  live: Set<SubscriptionState>;
}

export interface KhalaHubOptions {
  pool: pg.Pool;
  /** Connection string for the dedicated LISTEN connection. */
  databaseUrl: string;
  config: RuntimeConfig;
  logger: Logger;
  metrics: KhalaMetrics;
}

export interface RevocationNotice {
  session_ids: string[];
  device_ids: string[];
}

export class KhalaHub {
  private readonly feeds = new Map<string, TopicFeed>();
  private readonly subscriptions = new Set<SubscriptionState>();
  private readonly byTopic = new Map<string, Set<SubscriptionState>>();
  /** Highest committed head seen per topic (notifications, polls, fetches). */
  private readonly knownHeads = new Map<string, number>();
  private listener: pg.Client | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly revocationHandlers = new Set<(notice: RevocationNotice) => void>();

  constructor(private readonly options: KhalaHubOptions) {}

  async start(): Promise<void> {
    await this.connectListener();
    this.pollTimer = setInterval(() => {
      this.pollHeads().catch((error: unknown) => this.options.logger.warn({ err: error }, 'khala fallback poll failed'));
    }, this.options.config.khala.fallbackPollMs);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const sub of this.subscriptions) sub.closed = true;
    this.subscriptions.clear();
    this.byTopic.clear();
    this.feeds.clear();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
  }

  onRevocation(handler: (notice: RevocationNotice) => void): () => void {
    this.revocationHandlers.add(handler);
    return () => this.revocationHandlers.delete(handler);
  }

  knownHead(topic: string): number | undefined {
    return this.knownHeads.get(topic);
  }

  noteHead(topic: string, head: number): void {
    if (head > (this.knownHeads.get(topic) ?? -1)) this.knownHeads.set(topic, head);
  }

  get activeSubscriptions(): number {
    return this.subscriptions.size;
  }

  /**
   * Starts delivery of `topic` after `fromSeq`. With `replayTarget` (a resume), batches
   * up to that seq are replay batches; the one reaching it carries replay_complete.
   */
  subscribe(sink: SubscriptionSink, topic: string, fromSeq: number, replayTarget?: number): Subscription {
    const sub: SubscriptionState = { topic, sink, lastSentSeq: fromSeq, replayTarget, closed: false, mode: 'catching_up', pumping: false, dirty: false };
    this.subscriptions.add(sub);
    let topicSubs = this.byTopic.get(topic);
    if (!topicSubs) {
      topicSubs = new Set();
      this.byTopic.set(topic, topicSubs);
    }
    topicSubs.add(sub);
    this.options.metrics.subscriptions.set(this.subscriptions.size);
    this.options.metrics.topic(topic).subscriptions += 1;
    this.noteHead(topic, replayTarget ?? fromSeq);
    void this.pump(sub);
    return sub;
  }

  unsubscribe(subscription: Subscription): void {
    const sub = subscription as SubscriptionState;
    sub.closed = true;
    this.subscriptions.delete(sub);
    const topicSubs = this.byTopic.get(sub.topic);
    topicSubs?.delete(sub);
    if (topicSubs?.size === 0) this.byTopic.delete(sub.topic);
    this.options.metrics.subscriptions.set(this.subscriptions.size);
    const feed = this.feeds.get(sub.topic);
    if (feed) {
      feed.live.delete(sub);
      if (feed.live.size === 0) this.feeds.delete(sub.topic);
    }
  }

  /** A write committed on this instance: deliver without waiting for the notification round trip. */
  notifyCommitted(topic: string, seq: number): void {
    this.onTopicAdvanced(topic, seq);
  }

  private send(sub: SubscriptionState, updates: JournalUpdate[], replayComplete: boolean): boolean {
    if (sub.closed) return false;
    const ok = sub.sink.deliver(sub.topic, updates, replayComplete);
    if (!ok) {
      this.unsubscribe(sub);
      return false;
    }
    if (updates.length > 0) {
      sub.lastSentSeq = updates[updates.length - 1]!.seq;
      this.options.metrics.delivered(sub.topic, updates.length);
    }
    return true;
  }

  /**
   * Catch-up: read the journal in bounded reads until nothing newer is committed, then
   * go live. The next read is issued before the current one is sent, so PostgreSQL
   * produces rows while this process frames and writes them.
   */
  private async pump(sub: SubscriptionState): Promise<void> {
    if (sub.pumping) {
      sub.dirty = true;
      return;
    }
    sub.pumping = true;
    let ahead: Promise<JournalUpdate[]> | undefined;
    try {
      for (;;) {
        sub.dirty = false;
        const page = await (ahead ?? readJournalPage(this.options.pool, sub.topic, sub.lastSentSeq, CATCH_UP_READ_ROWS));
        ahead = undefined;
        if (sub.closed) return;
        const full = page.length === CATCH_UP_READ_ROWS;
        if (full) {
          ahead = readJournalPage(this.options.pool, sub.topic, page[page.length - 1]!.seq, CATCH_UP_READ_ROWS);
          // Handled here too, so an abandoned read-ahead (closed subscription) never rejects unobserved.
          ahead.catch(() => {});
        }
        let start = 0;
        while (start < page.length && page[start]!.seq <= sub.lastSentSeq) start += 1;
        if (start < page.length) this.noteHead(sub.topic, page[page.length - 1]!.seq);
        for (let index = start; index < page.length; index += REPLAY_PAGE_SIZE) {
          const chunk = page.slice(index, index + REPLAY_PAGE_SIZE);
          const last = chunk[chunk.length - 1]!.seq;
          const replayComplete = sub.replayTarget === undefined || last >= sub.replayTarget;
          if (!this.send(sub, chunk, replayComplete)) return;
          if (replayComplete) sub.replayTarget = undefined;
        }
        if (!full && !sub.dirty) break;
      }
      if (sub.replayTarget !== undefined) {
        // The rows up to the replay target vanished under us (pruned): the replay still ends.
        sub.replayTarget = undefined;
        if (!this.send(sub, [], true)) return;
      }
      this.goLive(sub);
    } catch (error) {
      this.options.logger.warn({ err: error, topic: sub.topic }, 'khala catch-up read failed; retrying on the next poll');
      sub.mode = 'catching_up';
    } finally {
      sub.pumping = false;
    }
  }

  private goLive(sub: SubscriptionState): void {
    if (sub.closed) return;
    sub.mode = 'live';
    let feed = this.feeds.get(sub.topic);
    if (!feed) {
      feed = { topic: sub.topic, lastFetched: sub.lastSentSeq, buffer: [], fetching: false, dirty: false, live: new Set() };
      this.feeds.set(sub.topic, feed);
    }
    feed.live.add(sub);
    this.deliverFromFeed(feed, sub);
    // A write may have committed between the last catch-up read and now; look once.
    void this.fetchFeed(feed);
  }

  private deliverFromFeed(feed: TopicFeed, sub: SubscriptionState): void {
    if (sub.closed || sub.mode !== 'live' || feed.lastFetched <= sub.lastSentSeq) return;
    const first = feed.buffer[0]?.seq;
    if (first === undefined || first > sub.lastSentSeq + 1) {
      // The feed no longer holds what this subscriber needs: catch up from the journal.
      feed.live.delete(sub);
      sub.mode = 'catching_up';
      void this.pump(sub);
      return;
    }
    let index = sub.lastSentSeq + 1 - first;
    while (index < feed.buffer.length) {
      const chunk = feed.buffer.slice(index, index + REPLAY_PAGE_SIZE);
      if (!this.send(sub, chunk, true)) return;
      index += chunk.length;
    }
  }

  private async fetchFeed(feed: TopicFeed): Promise<void> {
    if (feed.fetching) {
      feed.dirty = true;
      return;
    }
    feed.fetching = true;
    try {
      for (;;) {
        feed.dirty = false;
        // Updates this instance just committed are taken from memory; anything else from the journal.
        const recent = recentCommittedUpdates(this.options.pool, feed.topic, feed.lastFetched, REPLAY_PAGE_SIZE);
        const page = recent.length > 0 ? recent : await readJournalPage(this.options.pool, feed.topic, feed.lastFetched, REPLAY_PAGE_SIZE);
        if (this.feeds.get(feed.topic) !== feed) return;
        if (page.length > 0) {
          if (feed.buffer.length > 0 && page[0]!.seq !== feed.lastFetched + 1) feed.buffer = [];
          feed.buffer.push(...page);
          if (feed.buffer.length > FEED_BUFFER_SIZE) feed.buffer.splice(0, feed.buffer.length - FEED_BUFFER_SIZE);
          feed.lastFetched = page[page.length - 1]!.seq;
          this.noteHead(feed.topic, feed.lastFetched);
          for (const sub of [...feed.live]) this.deliverFromFeed(feed, sub);
        }
        if (page.length < REPLAY_PAGE_SIZE && !feed.dirty) break;
      }
    } catch (error) {
      this.options.logger.warn({ err: error, topic: feed.topic }, 'khala feed read failed; retrying on the next poll');
    } finally {
      feed.fetching = false;
    }
  }

  private onTopicAdvanced(topic: string, seq: number): void {
    this.noteHead(topic, seq);
    const feed = this.feeds.get(topic);
    if (feed && seq > feed.lastFetched) void this.fetchFeed(feed);
    for (const sub of this.byTopic.get(topic) ?? []) {
      if (sub.mode === 'catching_up') void this.pump(sub);
    }
  }

  /** Fallback for lost notifications (and a listener that is reconnecting). */
  private async pollHeads(): Promise<void> {
    const topics = [...this.byTopic.keys()];
    if (topics.length === 0) return;
    const { rows } = await this.options.pool.query<{ topic: string; head_seq: string }>(
      'SELECT topic, head_seq FROM runtime.sync_topic_sequences WHERE topic = ANY($1)',
      [topics],
    );
    for (const row of rows) {
      const head = Number(row.head_seq);
      const feed = this.feeds.get(row.topic);
      const behind = (feed && head > feed.lastFetched) || [...(this.byTopic.get(row.topic) ?? [])].some((s) => s.mode === 'catching_up' && s.lastSentSeq < head);
      this.noteHead(row.topic, head);
      if (behind) this.onTopicAdvanced(row.topic, head);
    }
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'runtime-gate-khala-listener' });
    client.on('notification', (message) => {
      if (message.channel === KHALA_NOTIFY_CHANNEL && message.payload) {
        const tab = message.payload.lastIndexOf('\t');
        const seq = Number(message.payload.slice(tab + 1));
        if (tab > 0 && Number.isInteger(seq)) this.onTopicAdvanced(message.payload.slice(0, tab), seq);
      } else if (message.channel === REVOCATION_NOTIFY_CHANNEL && message.payload) {
        try {
          const notice = JSON.parse(message.payload) as RevocationNotice;
          for (const handler of this.revocationHandlers) handler(notice);
        } catch (error) {
          this.options.logger.warn({ err: error }, 'malformed revocation notification');
        }
      }
    });
    client.on('error', (error) => {
      this.options.logger.warn({ err: { message: error.message } }, 'khala listener connection failed; the fallback poll covers until it reconnects');
      if (this.listener === client) this.scheduleReconnect();
    });
    client.on('end', () => {
      if (this.listener === client) this.scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${KHALA_NOTIFY_CHANNEL}`);
    await client.query(`LISTEN ${REVOCATION_NOTIFY_CHANNEL}`);
    this.listener = client;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const failed = this.listener;
    this.listener = undefined;
    failed?.end().catch(() => {});
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectListener().catch(() => this.scheduleReconnect());
    }, 1000);
    this.reconnectTimer.unref();
  }
}
