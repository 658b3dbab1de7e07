import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../config';
import { createRedisClient, type RedisClient } from './redis-deployment';
import { RedisUnavailableError } from './redis-unavailable';

/**
 * A command Redis has not answered after this long fails (a 503 for the
 * client) instead of waiting: a hung or partitioned Redis keeps the connection
 * open, so neither a reconnect nor maxRetriesPerRequest ever ends the wait.
 */
export const COMMAND_TIMEOUT_MS = 3_000;

/**
 * The process's Redis connections: one for commands, one in subscriber mode for
 * the live fan-out (one subscription connection per process, or per primary on
 * a cluster, whatever the number of clients), made when first asked for: a
 * process that only publishes (the job-matcher) never opens it. Both reconnect
 * by themselves with backoff and follow a failover (see createRedisClient).
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly log = new Logger(RedisConnections.name);
  readonly command: RedisClient;
  private subscriberClient: RedisClient | null = null;

  constructor(@Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig) {
    this.command = this.create('command', {});
  }

  get subscriber(): RedisClient {
    // Subscriptions are restored by ioredis on reconnect; NotificationFanout re-syncs the gap.
    this.subscriberClient ??= this.create('subscriber', { autoResubscribe: true }, { shardedSubscribers: true });
    return this.subscriberClient;
  }

  /**
   * Another client of the same deployment, for a library that needs its own
   * (BullMQ, the Socket.IO adapter): same failover rules, its own options.
   */
  create(role: string, options: RedisOptions, cluster: { shardedSubscribers?: boolean } = {}): RedisClient {
    const client = createRedisClient(
      this.config.redis,
      {
        // Fail a command fast while Redis is away, so callers answer 503 instead of hanging.
        maxRetriesPerRequest: 2,
        commandTimeout: COMMAND_TIMEOUT_MS,
        connectTimeout: 5_000,
        connectionName: `${this.config.redisKeyPrefix}:${role}`,
        ...options,
      },
      cluster,
    );
    let lastError = '';
    client.on('error', (error: Error) => {
      // ioredis repeats the same error on every retry: log each distinct one once.
      if (error.message !== lastError) this.log.warn(`redis ${role}: ${error.message}`);
      lastError = error.message;
    });
    client.on('ready', () => {
      if (lastError) this.log.log(`redis ${role}: connected again`);
      lastError = '';
    });
    return client;
  }

  /**
   * Throws at once while the command connection is down, instead of letting
   * the command wait in ioredis's offline queue through its reconnect backoff:
   * callers answer 503 fast and the client retries. (Whether live delivery
   * works is the DeliveryProbe's to say.)
   */
  assertConnected(): void {
    if (this.command.status !== 'ready') throw new RedisUnavailableError(`redis is not connected (command ${this.command.status})`);
  }

  async onApplicationShutdown(): Promise<void> {
    // quit() would wait forever on a client that is not connected (its retries are unbounded).
    const clients = this.subscriberClient === null ? [this.command] : [this.command, this.subscriberClient];
    await Promise.allSettled(clients.filter((client) => client.status === 'ready').map((client) => client.quit()));
    for (const client of clients) client.disconnect();
  }
}
