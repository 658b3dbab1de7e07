import { DynamicModule, Module } from '@nestjs/common';
import { NOTIFICATIONS_CONFIG, NotificationsConfig } from './config';
import { InboxStore } from './inbox/inbox.store';
import { RealtimeMetrics } from './metrics/realtime.metrics';
import { NotificationFanout } from './notification.fanout';
import { NotificationFeed } from './notification.feed';
import { NotificationService } from './notification.service';
import { NotificationStore } from './notification.store';
import { RateLimiter } from './rate-limit/rate-limiter';
import { DeliveryProbe } from './redis/delivery-probe';
import { RedisConnections } from './redis/redis-connections';
import { RedisKeys } from './redis/redis-keys';
import { TopicService } from './topics/topic.service';

export interface NotificationsModuleOptions {
  /**
   * Follow live entries (the fan-out, feeds, and the probe that proves the
   * subscriptions deliver): a process that serves clients. A process that only
   * publishes (the job-matcher) leaves it out and opens no subscriber connection.
   */
  readonly liveDelivery: boolean;
}

/** The notifications domain, wired to the Redis named by the given configuration. */
@Module({})
export class NotificationsModule {
  static forRoot(config: NotificationsConfig, options: NotificationsModuleOptions = { liveDelivery: true }): DynamicModule {
    const live = options.liveDelivery ? [DeliveryProbe, NotificationFanout, NotificationFeed] : [];
    const domain = [RedisConnections, RealtimeMetrics, NotificationStore, NotificationService, InboxStore, RateLimiter, TopicService, ...live];
    return {
      module: NotificationsModule,
      global: true,
      providers: [{ provide: NOTIFICATIONS_CONFIG, useValue: config }, { provide: RedisKeys, useValue: new RedisKeys(config.redisKeyPrefix) }, ...domain],
      exports: [NOTIFICATIONS_CONFIG, RedisKeys, ...domain],
    };
  }
}
