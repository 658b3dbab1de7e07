import { Injectable } from '@nestjs/common';
import { RealtimeMetrics } from './metrics/realtime.metrics';
import { assertNotificationInput } from './notification';
import { AppendResult, NotificationStore } from './notification.store';
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
    const notification = assertNotificationInput(input);
    this.redis.assertConnected({ subscriber: false });
    const result = await this.store.append(notification, new Date());
    if (!result.duplicate) this.metrics.published.inc();
    return result;
  }
}
