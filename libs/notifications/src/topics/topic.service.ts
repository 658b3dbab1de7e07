import { Injectable } from '@nestjs/common';
import { RealtimeMetrics } from '../metrics/realtime.metrics';
import { AppendResult, NotificationStore } from '../notification.store';
import { RedisConnections } from '../redis/redis-connections';
import { RedisKeys } from '../redis/redis-keys';
import { assertTopicEventInput } from './topic';

/**
 * The write path of topics: an internal service publishes an event once, the
 * topic's history keeps it (TOPIC_HISTORY_MAX) and every follower on every
 * instance receives it, through the same append-and-publish script as a
 * user's notifications.
 */
@Injectable()
export class TopicService {
  constructor(
    private readonly store: NotificationStore,
    private readonly keys: RedisKeys,
    private readonly metrics: RealtimeMetrics,
    private readonly redis: RedisConnections,
  ) {}

  /** Stores and fans out one event; the same idempotency key within 24 h answers the first id and stores nothing. */
  async publish(topic: unknown, input: unknown): Promise<AppendResult> {
    const event = assertTopicEventInput(topic, input);
    const name = topic as string;
    this.redis.assertConnected();
    // The contract's order of fields: id (added by the store), topic, type, data, createdAt.
    const body = JSON.stringify({ topic: name, type: event.type, data: event.data, createdAt: new Date().toISOString() }).slice(1);
    const result = (await this.store.append(this.keys.topicFeed(name), { type: event.type, body, idempotencyKey: event.idempotencyKey })) as AppendResult;
    if (!result.duplicate) this.metrics.topicEventsPublished.inc();
    return result;
  }
}
