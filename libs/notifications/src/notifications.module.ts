import { DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from './config';
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

/** The notifications domain, wired to the Redis named by the given configuration. */
@Module({})
export class NotificationsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: NotificationsModule,
      global: true,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: RedisKeys, useValue: new RedisKeys(config.redisKeyPrefix) },
        RedisConnections,
        DeliveryProbe,
        RealtimeMetrics,
        NotificationStore,
        NotificationFanout,
        NotificationFeed,
        NotificationService,
        InboxStore,
        RateLimiter,
        TopicService,
      ],
      exports: [
        APP_CONFIG,
        RedisKeys,
        RedisConnections,
        DeliveryProbe,
        RealtimeMetrics,
        NotificationStore,
        NotificationFanout,
        NotificationFeed,
        NotificationService,
        InboxStore,
        RateLimiter,
        TopicService,
      ],
    };
  }
}
