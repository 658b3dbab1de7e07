import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { NotificationEnvelope } from './notification-envelope';
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
  readonly listeners: Set<FanoutListener>;
  readonly subscribed: Promise<unknown>;
}

/**
 * Cross-instance fan-out. Publishing is one Redis PUBLISH per notification on
 * the user's channel; this process subscribes, on its one subscriber
 * connection, to the channels of the users it has listeners for, and routes
 * each message through a per-user registry: cost per notification is one map
 * lookup plus one call per listener of that user, never a scan of all clients.
 */
@Injectable()
export class NotificationFanout implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(NotificationFanout.name);
  private readonly users = new Map<string, UserEntry>();
  private wasReady = false;

  constructor(
    private readonly redis: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  onModuleInit(): void {
    this.wasReady = this.redis.subscriber.status === 'ready';
    this.redis.subscriber.on('message', this.onMessage);
    this.redis.subscriber.on('ready', this.onReady);
    this.redis.subscriber.on('close', this.onClose);
  }

  onModuleDestroy(): void {
    this.redis.subscriber.off('message', this.onMessage);
    this.redis.subscriber.off('ready', this.onReady);
    this.redis.subscriber.off('close', this.onClose);
  }

  /**
   * Registers a listener; resolves once this process is subscribed to the
   * user's channel, so anything published afterwards reaches the listener.
   * Returns the function that removes it.
   */
  async attach(userId: string, listener: FanoutListener): Promise<() => void> {
    let entry = this.users.get(userId);
    if (!entry) {
      entry = { listeners: new Set(), subscribed: this.redis.subscriber.subscribe(this.keys.userChannel(userId)) };
      this.users.set(userId, entry);
    }
    entry.listeners.add(listener);
    const detach = () => this.detach(userId, listener);
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

  private detach(userId: string, listener: FanoutListener): void {
    const entry = this.users.get(userId);
    if (!entry || !entry.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.users.delete(userId);
    // Commands on one connection run in order, so a later subscribe for the same user still wins.
    this.redis.subscriber.unsubscribe(this.keys.userChannel(userId)).catch(() => undefined);
  }

  private readonly onMessage = (channel: string, message: string): void => {
    const userId = this.keys.userOfChannel(channel);
    const entry = userId === null ? undefined : this.users.get(userId);
    if (!entry) return;
    // Message: "<id> <type> <json>", written by NotificationStore's append script.
    const idEnd = message.indexOf(' ');
    const typeEnd = message.indexOf(' ', idEnd + 1);
    const envelope = new NotificationEnvelope(
      message.slice(0, idEnd),
      message.slice(idEnd + 1, typeEnd),
      userId as string,
      message.slice(typeEnd + 1),
    );
    for (const listener of entry.listeners) {
      try {
        listener.onLive(envelope);
      } catch (error) {
        this.log.error(`listener failed: ${(error as Error).message}`);
      }
    }
  };

  private readonly onClose = (): void => {
    if (!this.wasReady) return;
    for (const entry of this.users.values()) for (const listener of entry.listeners) listener.onDisconnected();
  };

  private readonly onReady = (): void => {
    if (!this.wasReady) {
      this.wasReady = true;
      return;
    }
    // Reconnected: ioredis has re-sent SUBSCRIBE for every channel. Once a PING on
    // the same connection answers, those are in effect, and a re-read of the
    // store by each listener covers whatever was published while we were away.
    this.redis.subscriber
      .ping()
      .then(() => {
        this.log.log(`subscriber reconnected: re-syncing ${this.listenerCount()} listener(s)`);
        for (const entry of this.users.values()) for (const listener of entry.listeners) listener.onResubscribed();
      })
      .catch(() => undefined);
  };
}
