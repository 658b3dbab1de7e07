import { Injectable } from '@nestjs/common';
import type { FeedStream } from './feed-stream';
import type { InboxState } from './inbox/inbox-state';
import { InboxStore } from './inbox/inbox.store';
import { compareNotificationIds } from './notification';
import { NotificationEnvelope } from './notification-envelope';
import { FanoutListener, NotificationFanout } from './notification.fanout';
import { NotificationStore } from './notification.store';
import { DeliveryProbe } from './redis/delivery-probe';
import { RedisConnections } from './redis/redis-connections';
import { RedisUnavailableError } from './redis/redis-unavailable';
import { type ResetReason, resumePoint, UNREADABLE_CURSOR } from './resume-point';

/**
 * Where a transport receives a feed's output. Calls come in this order: (a
 * user's feed) the read state, start, then resets, notifications and read
 * states. A read state may also come before the first of those, from the
 * moment the feed subscribes: the transport sends the newest it was given
 * first of all. The transport frames what it gets and
 * says whether it can take more; the feed paces its reads by that.
 */
export interface FeedSink {
  /**
   * The feed is subscribed. `position` is the stream's own id the feed continues
   * after (never a cursor the client sent that the stream does not hold), which
   * the transport may hand to the client as its resume point.
   */
  start(position: string): void;
  /**
   * What follows does not continue from the client's cursor: it was trimmed
   * from the history (at the start, or while a slow reader caught up), or it
   * was not a position of this stream. `position` is where the feed
   * continues after: a client must take it as its cursor, even when it is
   * behind the one it had (that one was not the stream's).
   */
  reset(reason: ResetReason, position: string): void;
  /**
   * A notification, replayed (`live` false) or live, each once and in id
   * order. Returns false when the transport's buffer is past its soft bound:
   * the feed then reads no further history until {@link whenWritable} calls
   * back. Live notifications are never held back this way; the transport cuts
   * a client whose buffer passes its hard bound.
   */
  notification(envelope: NotificationEnvelope, live: boolean): boolean;
  /**
   * The user's read state (a user's feed only): once as the feed starts, then
   * whenever it changes, never an older state after a newer one.
   */
  inbox?(state: InboxState): void;
  /** Calls `resume` once the buffer has drained (at once if it has); not at all once closed. */
  whenWritable(resume: () => void): void;
  /** The feed could not keep up (Redis failed while reading): the transport should close; the client resumes. */
  fail(error: Error): void;
}

export interface FeedOptions {
  /**
   * The client's cursor (canonical, see parseNotificationId), or
   * UNREADABLE_CURSOR for one that was not an id. Absent: live only, from the
   * newest position.
   */
  after?: string | null;
  /** Deliver only these types. Absent: all. */
  types?: ReadonlySet<string> | null;
}

/** History read per round trip while catching up; each page is written only as fast as the client reads. */
const CATCH_UP_PAGE = 200;
/**
 * Live notifications held while catching up. Past either bound the held ones
 * are dropped and read again from the store once the reader gets there, so a
 * reader far behind costs bounded memory however fast others publish.
 */
const MAX_HELD = 1_000;
const MAX_HELD_BYTES = 1024 * 1024;

/**
 * Opens a feed of one stream (a user's notifications or a topic's events):
 * subscribe first, then catch up from the store, then go
 * live. Live notifications that arrive while catching up are held and merged
 * by id (dropping those the store already gave), so there is no gap between
 * history and live and no duplicate.
 */
@Injectable()
export class NotificationFeed {
  constructor(
    private readonly fanout: NotificationFanout,
    private readonly store: NotificationStore,
    private readonly redis: RedisConnections,
    private readonly probe: DeliveryProbe,
    private readonly inbox: InboxStore,
  ) {}

  /** Resolves once the feed has started; throws (nothing sent to the sink) if it could not. */
  async open(stream: FeedStream, options: FeedOptions, sink: FeedSink): Promise<FeedSubscription> {
    this.redis.assertConnected();
    // A feed opened while subscriptions do not deliver would wait for nothing: 503, and the client comes back.
    if (!this.probe.current.delivering) throw new RedisUnavailableError(`live delivery is down (${this.probe.current.failure})`);
    const subscription = new FeedSubscription(stream, options.types ?? null, sink, this.store, this.inbox);
    try {
      subscription.attached(await this.fanout.attach(stream, subscription));
      const after = options.after ?? null;
      const cursor = after === null || after === UNREADABLE_CURSOR ? null : after;
      const known = await this.store.position(stream, cursor);
      const { position, reset } = resumePoint(after, known);
      // The read state goes first: the transport writes it right after its opening (the state may
      // already have come through the fan-out, while the position was read: the newer one wins).
      if (known.inbox !== null) subscription.onInbox(known.inbox);
      sink.start(position);
      if (reset !== null) sink.reset(reset, position);
      if (compareNotificationIds(position, known.lastId) < 0) void subscription.catchUp(position);
      else subscription.goLive(position);
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
 * Live notifications pass straight through, except while the feed catches up
 * (at the start, or after the subscriber connection was lost): then they are
 * held, and released once the store has been read up to them.
 */
export class FeedSubscription implements FanoutListener {
  /** Set once open() has given it a position: before that, there is nothing to catch up from. */
  private started = false;
  private live = false;
  private catchingUp = false;
  /** The held notifications may have a gap (dropped past the bound, or the subscriber was away): read the store again. */
  private rereadNeeded = false;
  private disconnected = false;
  private held: NotificationEnvelope[] = [];
  private heldBytes = 0;
  private closed = false;
  private detach: (() => void) | null = null;
  /** The newest id this feed has passed (delivered or filtered out). */
  private cursor = '0-0';
  /** The version of the newest read state passed to the sink. */
  private inboxVersion = -1;

  constructor(
    readonly stream: FeedStream,
    private readonly types: ReadonlySet<string> | null,
    private readonly sink: FeedSink,
    private readonly store: NotificationStore,
    private readonly inbox: InboxStore,
  ) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropHeld();
    this.detach?.();
    this.detach = null;
  }

  onLive(envelope: NotificationEnvelope): void {
    if (this.closed) return;
    if (this.live) {
      // Pub/sub and the store arrive on different Redis connections, so a live copy
      // of a notification the store already gave can still come in after it.
      if (compareNotificationIds(envelope.id, this.cursor) > 0) this.deliver(envelope, true);
      return;
    }
    if (this.held.length >= MAX_HELD || this.heldBytes >= MAX_HELD_BYTES) {
      this.dropHeld();
      this.rereadNeeded = true;
    }
    this.held.push(envelope);
    this.heldBytes += envelope.json.length;
  }

  onInbox(state: InboxState): void {
    if (this.closed || state.version <= this.inboxVersion) return;
    this.inboxVersion = state.version;
    this.sink.inbox?.(state);
  }

  onDisconnected(): void {
    this.disconnected = true;
    this.live = false;
  }

  onResubscribed(): void {
    this.disconnected = false;
    if (this.closed) return;
    this.rereadNeeded = true;
    // Before open() has read a position the cursor means nothing yet: goLive catches up instead.
    if (this.started && !this.catchingUp) void this.catchUp(this.cursor);
    // Read states published while the subscriber was away were lost with it.
    if (this.stream.inbox) {
      this.inbox.stateOf(this.stream).then(
        (state) => this.onInbox(state),
        (error: unknown) => this.fail(error as Error),
      );
    }
  }

  /** @internal */
  attached(detach: () => void): void {
    if (this.closed) detach();
    else this.detach = detach;
  }

  /** @internal Start live after `position`, without reading history (unless the subscriber dropped meanwhile). */
  goLive(position: string): void {
    this.started = true;
    // The subscriber dropped since this feed subscribed: what it held may have a gap, which the store fills.
    if (this.rereadNeeded || this.disconnected) {
      void this.catchUp(position);
      return;
    }
    this.cursor = position;
    for (const envelope of this.takeHeld()) {
      if (this.closed) return;
      // Pub/sub and the stream share one order, so anything not newer than the cursor was already passed.
      if (compareNotificationIds(envelope.id, this.cursor) > 0) this.deliver(envelope, true);
    }
    this.live = !this.disconnected;
  }

  /**
   * @internal Reads the store after `from`, one page at a time and each page
   * only as fast as the sink takes it; then releases what was held meanwhile,
   * equally paced, and goes live once nothing is left to catch up.
   */
  async catchUp(from: string): Promise<void> {
    this.started = true;
    this.catchingUp = true;
    this.cursor = from;
    try {
      let readStore = true;
      while (!this.closed) {
        if (readStore) {
          this.rereadNeeded = false;
          const page = await this.store.read(this.stream, this.cursor, CATCH_UP_PAGE);
          if (this.closed) return;
          if (compareNotificationIds(this.cursor, page.maxTrimmedId) < 0) {
            // A reader slower than the trimming: what it had not read yet is gone.
            this.cursor = page.maxTrimmedId;
            this.sink.reset('history-truncated', this.cursor);
          }
          if (!(await this.deliverPaced(page.items, false))) return;
          if (page.items.length === CATCH_UP_PAGE) continue;
        }
        // Caught up with the store as of the last read; what came live since is held.
        if (this.disconnected) return; // onResubscribed starts again
        if (this.rereadNeeded) {
          readStore = true;
          continue;
        }
        const held = this.takeHeld();
        if (held.length === 0) {
          this.live = true;
          return;
        }
        if (!(await this.deliverPaced(held, true))) return;
        readStore = this.rereadNeeded;
      }
    } catch (error) {
      this.fail(error as Error);
    } finally {
      this.catchingUp = false;
    }
  }

  /** Delivers in order, waiting whenever the sink is full; false once the feed is closed. */
  private async deliverPaced(envelopes: NotificationEnvelope[], live: boolean): Promise<boolean> {
    for (const envelope of envelopes) {
      if (this.closed) return false;
      if (compareNotificationIds(envelope.id, this.cursor) <= 0) continue;
      if (!this.deliver(envelope, live)) await new Promise<void>((resume) => this.sink.whenWritable(resume));
    }
    return !this.closed;
  }

  private deliver(envelope: NotificationEnvelope, live: boolean): boolean {
    this.cursor = envelope.id;
    if (this.types !== null && !this.types.has(envelope.type)) return true;
    return this.sink.notification(envelope, live);
  }

  private takeHeld(): NotificationEnvelope[] {
    const held = this.held;
    this.dropHeld();
    return held;
  }

  private dropHeld(): void {
    this.held = [];
    this.heldBytes = 0;
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.close();
    this.sink.fail(error);
  }
}
