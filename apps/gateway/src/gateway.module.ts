import { DynamicModule, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { TerminusModule } from '@nestjs/terminus';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { JobMatchingModule, QUEUES } from '@app/job-matching';
import { NotificationsModule } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config';
import { EdgeAdmission } from './admission/edge-admission';
import { DevTokenController } from './auth/dev-token.controller';
import { InternalKeyGuard } from './auth/internal-key.guard';
import { UserAuthGuard } from './auth/user-auth.guard';
import { UserTokenVerifier } from './auth/user-token.verifier';
import { LiveConnections } from './connections/live-connections';
import { DemoController } from './demo/demo.controller';
import { DemoFeed } from './demo/demo-feed';
import { EventStreamRoute } from './events/event-stream.route';
import { InboxController } from './inbox/inbox.controller';
import { JobsController } from './jobs/jobs.controller';
import { QUEUE_DASHBOARD_ROUTE, queueDashboardGuard } from './jobs/queue-dashboard.middleware';
import { SseConnections } from './events/sse-connections';
import { NotificationsController } from './notifications/notifications.controller';
import { GatewayGauges } from './ops/gateway-gauges';
import { HealthController } from './ops/health.controller';
import { MetricsController } from './ops/metrics.controller';
import { RedisHealthIndicator } from './ops/redis.health';
import { DirectChatLimiter } from './realtime/direct-chat.limiter';
import { RealtimeGateway } from './realtime/realtime.gateway';
import { RoomChannelSubscriptions } from './realtime/room-channel-subscriptions';
import { RoomMembers } from './realtime/room-members';
import { RoomMembership } from './realtime/room-membership';
import { RoomPresence } from './realtime/room-presence';
import { RoomTraffic } from './realtime/room-traffic';
import { SocketInbox } from './realtime/socket-inbox';
import { SocketTopics } from './realtime/socket-topics';
import { SavedSearchesController } from './saved-searches/saved-searches.controller';
import { TopicAccess } from './topics/topic-access';
import { TopicsController } from './topics/topics.controller';

/** The gateway process: every channel adapter over the notifications library. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        NotificationsModule.forRoot(config),
        JwtModule.register({
          // A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse
          // it as a public key on every verify, which was a fifth of the CPU of opening a stream.
          secret: createSecretKey(Buffer.from(config.jwtSecret)),
          signOptions: { algorithm: 'HS256' },
          verifyOptions: { algorithms: ['HS256'] },
        }),
        TerminusModule.forRoot({ logger: false }),
        JobMatchingModule.forRoot(config, { worker: config.workerEmbedded }),
        BullBoardModule.forRoot({ route: QUEUE_DASHBOARD_ROUTE, adapter: ExpressAdapter, middleware: queueDashboardGuard(config.adminPassword) }),
        BullBoardModule.forFeature({ name: QUEUES.jobPostings, adapter: BullMQAdapter }, { name: QUEUES.notifications, adapter: BullMQAdapter }),
      ],
      controllers: [
        NotificationsController,
        InboxController,
        TopicsController,
        HealthController,
        MetricsController,
        SavedSearchesController,
        JobsController,
        ...(config.devTokens ? [DevTokenController] : []),
        DemoController,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        UserTokenVerifier,
        EdgeAdmission,
        UserAuthGuard,
        InternalKeyGuard,
        LiveConnections,
        SseConnections,
        EventStreamRoute,
        RedisHealthIndicator,
        GatewayGauges,
        RealtimeGateway,
        RoomPresence,
        RoomMembers,
        RoomMembership,
        RoomChannelSubscriptions,
        RoomTraffic,
        DirectChatLimiter,
        TopicAccess,
        SocketTopics,
        SocketInbox,
        ...(config.demoFeed ? [DemoFeed] : []),
      ],
    };
  }
}
