import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config';

/**
 * The process's Redis connections: one for commands, one in subscriber mode for
 * the live fan-out (one subscription connection per process, whatever the
 * number of clients). Both reconnect by themselves with backoff.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly log = new Logger(RedisConnections.name);
  readonly command: Redis;
  readonly subscriber: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const options: RedisOptions = {
      // Fail a command fast while Redis is away, so callers answer 503 instead of hanging.
      maxRetriesPerRequest: 2,
      connectTimeout: 5_000,
      lazyConnect: false,
    };
    this.command = new Redis(config.redisUrl, { ...options, connectionName: `${config.redisKeyPrefix}:command` });
    this.subscriber = new Redis(config.redisUrl, {
      ...options,
      connectionName: `${config.redisKeyPrefix}:subscriber`,
      // Subscriptions are restored by ioredis on reconnect; NotificationFanout re-syncs the gap.
      autoResubscribe: true,
    });
    for (const [role, client] of [
      ['command', this.command],
      ['subscriber', this.subscriber],
    ] as const) {
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
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.command.quit(), this.subscriber.quit()]);
    this.command.disconnect();
    this.subscriber.disconnect();
  }
}
