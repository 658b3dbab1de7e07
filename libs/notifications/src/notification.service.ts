import { Injectable } from '@nestjs/common';
import { InvalidInputError } from './errors';
import { RealtimeMetrics } from './metrics/realtime.metrics';
import { assertNotificationInput, type NotificationInput } from './notification';
import { AppendResult, NotificationStore } from './notification.store';
import type { RateBucket } from './rate-limit/rate-limiter';
import { RedisConnections } from './redis/redis-connections';
import { RedisKeys } from './redis/redis-keys';

/** Notifications one batch publish may carry. */
export const MAX_BATCH_ITEMS = 1000;

/**
 * The one write path for notifications: REST, the `notify` queue and chat
 * direct messages all publish here. Invariants are checked again even behind a
 * validating edge, because internal services may enqueue directly.
 */
@Injectable()
export class NotificationService {
  constructor(
    private readonly store: NotificationStore,
    private readonly keys: RedisKeys,
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
    this.redis.assertConnected();
    return this.append(notification, new Date(), buckets);
  }

  /**
   * Publishes 1 to MAX_BATCH_ITEMS notifications, answering their results in
   * order. Every item is checked before anything is stored: one bad item
   * throws InvalidInputError naming it (`items[3].type`) and stores nothing.
   * The appends go out together, so the batch costs about one round trip;
   * each is atomic on its own (the users' keys live in different slots), so
   * if Redis fails midway the caller retries the batch, and idempotency keys
   * make the retry store only what was missing.
   */
  async publishBatch(items: unknown): Promise<AppendResult[]> {
    if (!Array.isArray(items) || items.length < 1 || items.length > MAX_BATCH_ITEMS) {
      throw new InvalidInputError('items', `items must be an array of 1 to ${MAX_BATCH_ITEMS} notifications`);
    }
    const notifications = items.map((item, index) => {
      try {
        return assertNotificationInput(item);
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        const field = error.field === 'body' ? `items[${index}]` : `items[${index}].${error.field}`;
        throw new InvalidInputError(field, `${field}: ${error.message}`);
      }
    });
    this.redis.assertConnected();
    const createdAt = new Date();
    return Promise.all(notifications.map((notification) => this.append(notification, createdAt, []) as Promise<AppendResult>));
  }

  private async append(notification: NotificationInput, createdAt: Date, buckets: readonly RateBucket[]): Promise<AppendResult | null> {
    const body = JSON.stringify({
      type: notification.type,
      userId: notification.userId,
      data: notification.data,
      createdAt: createdAt.toISOString(),
    }).slice(1);
    const entry = { type: notification.type, body, idempotencyKey: notification.idempotencyKey };
    const result = await this.store.append(this.keys.userFeed(notification.userId), entry, buckets);
    if (result !== null && !result.duplicate) this.metrics.published.inc();
    return result;
  }
}
