import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { decodeLiveMessage } from './live-message';
import type { NotificationEnvelope } from './notification-envelope';
import { DeliveryProbe } from './redis/delivery-probe';
import { RedisConnections } from './redis/redis-connections';
import { RedisKeys } from './redis/redis-keys';

/** One open feed of one user on this process (in practice: one client connection). */
export interface FanoutListener {
  /** A live notification of the listener's user; calls come in stream order. */
  onLive(envelope: NotificationEnvelope): void;
  /** The subscriber connection dropped: live delivery has a gap from now on, hold what comes. */
  onDisconnected(): void;
  /** The subscriptions are back: re-read the store to fill the gap, then go live again. */
  onResubscribed(): void;
}

interface UserEntry {
  readonly userId: string;
  readonly listeners: Set<FanoutListener>;
  readonly subscribed: Promise<unknown>;
}

/**
 * Cross-instance fan-out. Publishing is one SPUBLISH per notification on the
 * user's sharded channel; this process subscribes (on its one subscriber
 * connection, or one per cluster primary) to the channels of the users it has
 * listeners for, and routes each message through a per-channel registry: cost
 * per notification is one map lookup plus one call per listener of that user,
 * never a scan of all clients. Sharded pub/sub sends a message only to the
 * shard that owns its slot, so on a cluster adding shards adds capacity,
 * where classic PUBLISH copies every message to every node.
 */
@Injectable()
export class NotificationFanout implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(NotificationFanout.name);
  /** By channel: one entry per user with listeners here. */
  private readonly users = new Map<string, UserEntry>();

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
   * user's channel, so anything published afterwards reaches the listener.
   * Returns the function that removes it.
   */
  async attach(userId: string, listener: FanoutListener): Promise<() => void> {
    const channel = this.keys.userChannel(userId);
    let entry = this.users.get(channel);
    if (!entry) {
      entry = { userId, listeners: new Set(), subscribed: this.redis.subscriber.ssubscribe(channel) };
      this.users.set(channel, entry);
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

  /** Listeners registered on this process (all users). */
  listenerCount(): number {
    let count = 0;
    for (const entry of this.users.values()) count += entry.listeners.size;
    return count;
  }

  /** Users whose channel this process is subscribed to. */
  subscribedUserCount(): number {
    return this.users.size;
  }

  private detach(channel: string, listener: FanoutListener): void {
    const entry = this.users.get(channel);
    if (!entry || !entry.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.users.delete(channel);
    // Commands on one connection run in order, so a later subscribe for the same user still wins.
    this.redis.subscriber.sunsubscribe(channel).catch(() => undefined);
  }

  private readonly onMessage = (channel: string, message: string): void => {
    const entry = this.users.get(channel);
    if (!entry) return;
    let envelope: NotificationEnvelope;
    try {
      envelope = decodeLiveMessage(message, entry.userId);
    } catch (error) {
      this.log.error((error as Error).message);
      return;
    }
    for (const listener of entry.listeners) {
      try {
        listener.onLive(envelope);
      } catch (error) {
        this.log.error(`listener failed: ${(error as Error).message}`);
      }
    }
  };

  private readonly onLost = (): void => {
    for (const entry of this.users.values()) for (const listener of entry.listeners) listener.onDisconnected();
  };

  /** The probe came back through every shard: the re-sent subscriptions are in effect, and a re-read of the store covers the gap. */
  private readonly onRestored = (): void => {
    this.log.log(`live delivery restored: re-syncing ${this.listenerCount()} listener(s)`);
    for (const entry of this.users.values()) for (const listener of entry.listeners) listener.onResubscribed();
  };
}
