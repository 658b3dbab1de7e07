import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisConnections } from '@app/notifications';

const PING_TIMEOUT_MS = 1_000;

/** Redis is up when both of our connections are ready and a PING answers in time. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: RedisConnections,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key: 'redis'): Promise<HealthIndicatorResult<'redis'>> {
    const indicator = this.indicators.check(key);
    if (this.redis.command.status !== 'ready' || this.redis.subscriber.status !== 'ready') {
      return indicator.down({ message: 'not connected' });
    }
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    try {
      await Promise.race([
        this.redis.command.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no PING answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
        }),
      ]);
      return indicator.up({ latencyMs: Date.now() - started });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
