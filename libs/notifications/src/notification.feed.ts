import { Injectable } from '@nestjs/common';
import { compareNotificationIds } from './notification';
import { NotificationEnvelope } from './notification-envelope';
import { FanoutListener, NotificationFanout } from './notification.fanout';
import { NotificationStore } from './notification.store';
import { RedisConnections } from './redis/redis-connections';

/** Where a transport receives a feed's output. Calls come in this order: start, reset?, notifications. */
export interface FeedSink {
  /**
   * The feed is subscribed. `position` is the id the feed continues after: the
   * client's resume id, or, for a client without one, the newest id at this
   * moment, which the transport may hand to the client as its resume point.
   */
  start(position: string): void;
  /** Notifications after the resume id were trimmed from the history before the client came back. */
  reset(reason: 'history-truncated'): void;
  /** A notification, replayed (`live` false) or live, each once and in id order. */
  notification(envelope: NotificationEnvelope, live: boolean): void;
  /** The feed could not keep up (Redis failed while re-reading): the transport should close; the client resumes. */
  fail(error: Error): void;
}

export interface FeedOptions {
  /** Resume id (canonical, see parseNotificationId): replay what is retained after it. Absent: live only. */
  after?: string | null;
  /** Deliver only these types. Absent: all. */
  types?: ReadonlySet<string> | null;
}

/** Replay page size: bounds the memory one resuming client can take at once. */
const REPLAY_PAGE = 500;
/** Live notifications held while a replay runs; a feed further behind than this fails and the client resumes. */
const MAX_HELD_WHILE_REPLAYING = 10_000;

/**
 * Opens a user's feed: subscribe first, then replay from the store, then go
 * live. Live notifications that arrive during the replay are held and merged
 * by id (dropping those the replay already gave), so there is no gap between
 * replay and live and no duplicate.
 */
@Injectable()
export class NotificationFeed {
  constructor(
    private readonly fanout: NotificationFanout,
    private readonly store: NotificationStore,
    private readonly redis: RedisConnections,
  ) {}

  /** Resolves once the feed has started; throws (nothing sent to the sink) if it could not. */
  async open(userId: string, options: FeedOptions, sink: FeedSink): Promise<FeedSubscription> {
    this.redis.assertConnected({ subscriber: true });
    const subscription = new FeedSubscription(userId, options.types ?? null, sink, this.store);
    try {
      subscription.attached(await this.fanout.attach(userId, subscription));
      const { lastId, maxTrimmedId } = await this.store.position(userId);
      const after = options.after ?? null;
      sink.start(after ?? lastId);
      if (after === null) {
        subscription.goLive(lastId);
      } else {
        if (compareNotificationIds(after, maxTrimmedId) < 0) sink.reset('history-truncated');
        void subscription.replayFrom(after);
      }
      return subscription;
    } catch (error) {
      subscription.close();
      throw error;
    }
  }
}

/**
 * One open feed. Close it when the client goes away: it frees its listener at once.
 *
 * While it replays, or while the subscriber connection is down, live
 * notifications are held; once the store has been read up to date they are
 * released, skipping any the read already gave.
 */
export class FeedSubscription implements FanoutListener {
  private live = false;
  private replayRunning = false;
  private replayAgain = false;
  private disconnected = false;
  private held: NotificationEnvelope[] = [];
  private closed = false;
  private detach: (() => void) | null = null;
  /** The newest id this feed has passed (delivered or filtered out). */
  private cursor = '0-0';

  constructor(
    readonly userId: string,
    private readonly types: ReadonlySet<string> | null,
    private readonly sink: FeedSink,
    private readonly store: NotificationStore,
  ) {}

  get lastId(): string {
    return this.cursor;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    this.detach?.();
    this.detach = null;
  }

  onLive(envelope: NotificationEnvelope): void {
    if (this.closed) return;
    if (this.live) {
      // Pub/sub and replay arrive on different Redis connections, so a live copy
      // of a notification the replay already gave can still come in after it.
      if (compareNotificationIds(envelope.id, this.cursor) > 0) this.deliver(envelope, true);
      return;
    }
    if (this.held.length >= MAX_HELD_WHILE_REPLAYING) {
      this.fail(new Error('too many live notifications while replaying'));
      return;
    }
    this.held.push(envelope);
  }

  onDisconnected(): void {
    this.disconnected = true;
    this.live = false;
  }

  onResubscribed(): void {
    this.disconnected = false;
    if (this.closed) return;
    if (this.replayRunning) this.replayAgain = true;
    else void this.replayFrom(this.cursor);
  }

  /** @internal */
  attached(detach: () => void): void {
    if (this.closed) detach();
    else this.detach = detach;
  }

  /** @internal Start live after `position`, without replay. */
  goLive(position: string): void {
    this.cursor = position;
    this.releaseHeld();
  }

  /** @internal Replay what the store has after `from`, then release what was held meanwhile. */
  async replayFrom(from: string): Promise<void> {
    this.replayRunning = true;
    this.cursor = from;
    try {
      do {
        this.replayAgain = false;
        for (;;) {
          const page = await this.store.readAfter(this.userId, this.cursor, REPLAY_PAGE);
          for (const envelope of page) {
            if (this.closed) return;
            this.deliver(envelope, false);
          }
          if (page.length < REPLAY_PAGE) break;
        }
      } while (this.replayAgain && !this.closed);
    } catch (error) {
      this.fail(error as Error);
      return;
    } finally {
      this.replayRunning = false;
    }
    this.releaseHeld();
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const envelope of held) {
      if (this.closed) return;
      // Pub/sub and the stream share one order, so anything not newer than the cursor was already passed.
      if (compareNotificationIds(envelope.id, this.cursor) > 0) this.deliver(envelope, true);
    }
    // Still disconnected: keep holding until the subscriptions are back and re-read.
    this.live = !this.disconnected;
  }

  private deliver(envelope: NotificationEnvelope, live: boolean): void {
    this.cursor = envelope.id;
    if (this.types !== null && !this.types.has(envelope.type)) return;
    this.sink.notification(envelope, live);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.close();
    this.sink.fail(error);
  }
}
