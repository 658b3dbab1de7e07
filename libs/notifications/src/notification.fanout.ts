import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { FeedStream } from './feed-stream';
import { INBOX_COALESCE_MS, type InboxState } from './inbox/inbox-state';
import { decodeInboxState, decodeLiveMessage, isInboxMessage } from './live-message';
import type { NotificationEnvelope } from './notification-envelope';
import { DeliveryProbe } from './redis/delivery-probe';
import { RedisConnections } from './redis/redis-connections';
import { RedisKeys } from './redis/redis-keys';

/** One open feed of one stream on this process (in practice: one client connection, or one topic of it). */
export interface FanoutListener {
  /** A live entry of the listener's stream; calls come in stream order. */
  onLive(envelope: NotificationEnvelope): void;
  /** The user's read state changed (coalesced: the last state of a burst); user streams only. */
  onInbox?(state: InboxState): void;
  /** The subscriber connection dropped: live delivery has a gap from now on, hold what comes. */
  onDisconnected(): void;
  /** The subscriptions are back: re-read the store to fill the gap, then go live again. */
  onResubscribed(): void;
}

interface StreamEntry {
  readonly stream: FeedStream;
  readonly listeners: Set<FanoutListener>;
  readonly subscribed: Promise<unknown>;
  /** The newest read state heard and not yet passed on, while a burst is being coalesced. */
  inbox: InboxState | null;
}

/**
 * Cross-instance fan-out. Publishing is one SPUBLISH per entry on its
 * stream's sharded channel; this process subscribes (on its one subscriber
 * connection, or one per cluster primary) to the channels of the streams it
 * has listeners for, and routes each message through a per-channel registry:
 * cost per entry is one map lookup plus one call per listener of that stream,
 * never a scan of all clients. Sharded pub/sub sends a message only to the
 * shard that owns its slot, so on a cluster adding shards adds capacity,
 * where classic PUBLISH copies every message to every node.
 *
 * A user's read state changes come on the same channel; they are coalesced
 * per user here, once for all of the user's connections on this process.
 */
@Injectable()
export class NotificationFanout implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(NotificationFanout.name);
  /** By channel: one entry per stream (user or topic) with listeners here. */
  private readonly streams = new Map<string, StreamEntry>();

  constructor(
    private readonly redis: RedisConnections,
    private readonly keys: RedisKeys,
    private readonly probe: DeliveryProbe,
  ) {}

  onModuleInit(): void {
    this.redis.subscriber.on('smessage', this.onMessage);
    this.probe.on('lost', this.onLost);
    this.probe.on('restored', this.onRestored);
  }

  onModuleDestroy(): void {
    this.redis.subscriber.off('smessage', this.onMessage);
    this.probe.off('lost', this.onLost);
    this.probe.off('restored', this.onRestored);
  }

  /**
   * Registers a listener; resolves once this process is subscribed to the
   * stream's channel, so anything published afterwards reaches the listener.
   * Returns the function that removes it. A topic followed by ten thousand
   * connections here is still one subscription.
   */
  async attach(stream: FeedStream, listener: FanoutListener): Promise<() => void> {
    const { channel } = stream;
    let entry = this.streams.get(channel);
    if (!entry) {
      entry = { stream, listeners: new Set(), subscribed: this.redis.subscriber.ssubscribe(channel), inbox: null };
      this.streams.set(channel, entry);
    }
    entry.listeners.add(listener);
    const detach = () => this.detach(channel, listener);
    try {
      await entry.subscribed;
    } catch (error) {
      detach();
      throw error;
    }
    return detach;
  }

  /** Listeners registered on this process (all streams). */
  listenerCount(): number {
    let count = 0;
    for (const entry of this.streams.values()) count += entry.listeners.size;
    return count;
  }

  /** Streams (users and topics) whose channel this process is subscribed to. */
  subscribedStreamCount(): number {
    return this.streams.size;
  }

  private detach(channel: string, listener: FanoutListener): void {
    const entry = this.streams.get(channel);
    if (!entry || !entry.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.streams.delete(channel);
    // Commands on one connection run in order, so a later subscribe for the same stream still wins.
    this.redis.subscriber.sunsubscribe(channel).catch(() => undefined);
  }

  private readonly onMessage = (channel: string, message: string): void => {
    const entry = this.streams.get(channel);
    if (!entry) return;
    let envelope: NotificationEnvelope | null;
    try {
      if (entry.stream.inbox) this.heardInbox(entry, decodeInboxState(message));
      envelope = isInboxMessage(message) ? null : decodeLiveMessage(message, entry.stream.name);
    } catch (error) {
      this.log.error((error as Error).message);
      return;
    }
    if (envelope === null) return;
    for (const listener of entry.listeners) {
      try {
        listener.onLive(envelope);
      } catch (error) {
        this.log.error(`listener failed: ${(error as Error).message}`);
      }
    }
  };

  /** Keeps the newest state of a burst; the first of a burst starts the timer that passes it on. */
  private heardInbox(entry: StreamEntry, state: InboxState | null): void {
    if (state === null || (entry.inbox !== null && entry.inbox.version >= state.version)) return;
    const pending = entry.inbox !== null;
    entry.inbox = state;
    if (pending) return;
    setTimeout(() => {
      const newest = entry.inbox;
      entry.inbox = null;
      if (newest === null) return;
      for (const listener of entry.listeners) {
        try {
          listener.onInbox?.(newest);
        } catch (error) {
          this.log.error(`listener failed: ${(error as Error).message}`);
        }
      }
    }, INBOX_COALESCE_MS);
  }

  private readonly onLost = (): void => {
    for (const entry of this.streams.values()) for (const listener of entry.listeners) listener.onDisconnected();
  };

  /** The probe came back through every shard: the re-sent subscriptions are in effect, and a re-read of the store covers the gap. */
  private readonly onRestored = (): void => {
    this.log.log(`live delivery restored: re-syncing ${this.listenerCount()} listener(s)`);
    for (const entry of this.streams.values()) for (const listener of entry.listeners) listener.onResubscribed();
  };
}
