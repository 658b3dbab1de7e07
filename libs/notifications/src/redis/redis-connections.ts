import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config';
import { RedisUnavailableError } from './redis-unavailable';

/**
 * The process's Redis connections: one for commands, one in subscriber mode for
 * the live fan-out (one subscription connection per process, whatever the
 * number of clients). Both reconnect by themselves with backoff.
 */
const STARTUP_WAIT_MS = 3_000;

/**
 * A command Redis has not answered after this long fails (a 503 for the
 * client) instead of waiting: a hung or partitioned Redis keeps the connection
 * open, so neither a reconnect nor maxRetriesPerRequest ever ends the wait.
 */
export const COMMAND_TIMEOUT_MS = 3_000;

@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(RedisConnections.name);
  readonly command: Redis;
  readonly subscriber: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const options: RedisOptions = {
      // Fail a command fast while Redis is away, so callers answer 503 instead of hanging.
      maxRetriesPerRequest: 2,
      commandTimeout: COMMAND_TIMEOUT_MS,
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

  /**
   * Gives Redis a moment to answer before the app takes traffic. A Redis that is
   * down does not stop start-up: /health says 503 until it is back.
   */
  async onModuleInit(): Promise<void> {
    const ready = (client: Redis) =>
      client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => client.once('ready', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STARTUP_WAIT_MS);
    });
    const outcome = await Promise.race([Promise.all([ready(this.command), ready(this.subscriber)]), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.log.warn(`redis is not answering yet; serving 503 until it does`);
  }

  /**
   * Throws at once while the command connection (and, for `subscriber: true`,
   * the subscriber too) is down, instead of letting the command wait in
   * ioredis's offline queue through its reconnect backoff: callers answer 503
   * fast and the client retries.
   */
  assertConnected(options: { subscriber: boolean }): void {
    const down = this.command.status !== 'ready' || (options.subscriber && this.subscriber.status !== 'ready');
    if (down) throw new RedisUnavailableError(`redis is not connected (command ${this.command.status}, subscriber ${this.subscriber.status})`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.command.quit(), this.subscriber.quit()]);
    this.command.disconnect();
    this.subscriber.disconnect();
  }
}
