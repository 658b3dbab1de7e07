import { Injectable } from '@nestjs/common';
import { RealtimeMetrics } from './metrics/realtime.metrics';
import { assertNotificationInput } from './notification';
import { AppendResult, NotificationStore } from './notification.store';
import type { RateBucket } from './rate-limit/rate-limiter';
import { RedisConnections } from './redis/redis-connections';

/**
 * The one write path for notifications: REST, the `notify` queue and chat
 * direct messages all publish here. Invariants are checked again even behind a
 * validating edge, because internal services may enqueue directly.
 */
@Injectable()
export class NotificationService {
  constructor(
    private readonly store: NotificationStore,
    private readonly metrics: RealtimeMetrics,
    private readonly redis: RedisConnections,
  ) {}

  async publish(input: unknown): Promise<AppendResult> {
    // Without buckets nothing can refuse it.
    return (await this.publishWithin(input, [])) as AppendResult;
  }

  /**
   * Publishes only if every bucket has room, taking from each in the same
   * atomic step as the store (the buckets' keys in the recipient's hash slot);
   * null, with nothing stored or sent, when one is full.
   */
  async publishWithin(input: unknown, buckets: readonly RateBucket[]): Promise<AppendResult | null> {
    const notification = assertNotificationInput(input);
    this.redis.assertConnected({ subscriber: false });
    const result = await this.store.append(notification, new Date(), buckets);
    if (result !== null && !result.duplicate) this.metrics.published.inc();
    return result;
  }
}
