import { Body, Controller, Get, HttpCode, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import {
  CHANNELS,
  type DeliveryStats,
  NotificationService,
  NotificationStore,
  RealtimeMetrics,
  RedisKeys,
} from '@app/notifications';
import { cursorFromField } from '../admission/resume-cursor';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { InternalKeyGuard } from '../auth/internal-key.guard';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { DEFAULT_PAGE, historyPageAnswer } from '../polling/history-page-answer';
import { PollingQuery } from '../polling/polling.dto';
import { PublishBatchRequest, PublishNotificationRequest } from './notifications.dto';


/** Publishing for internal services, and polling (the fallback channel) for users. */
@Controller('api/notifications')
export class NotificationsController {
  private readonly pollingStats: DeliveryStats;

  constructor(
    private readonly notifications: NotificationService,
    private readonly store: NotificationStore,
    private readonly keys: RedisKeys,
    metrics: RealtimeMetrics,
  ) {
    this.pollingStats = metrics.channel(CHANNELS.polling);
  }

  @Post()
  @HttpCode(202)
  @UseGuards(InternalKeyGuard)
  async publish(@Body() body: PublishNotificationRequest): Promise<{ id: string }> {
    const { id } = await this.notifications.publish(body);
    return { id };
  }

  /** Many users at once: validated whole first, then stored in one round trip. */
  @Post('batch')
  @HttpCode(202)
  @UseGuards(InternalKeyGuard)
  async publishBatch(@Body() body: PublishBatchRequest): Promise<{ ids: string[] }> {
    const results = await this.notifications.publishBatch(body.items);
    return { ids: results.map((result) => result.id) };
  }

  @Get()
  @UseGuards(UserAuthGuard)
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: PollingQuery, @Res() response: Response): Promise<void> {
    const after = cursorFromField(query.after, 'after');
    const page = await this.store.read(this.keys.userFeed(user.id), after, query.limit ?? DEFAULT_PAGE, true, true);
    const answer = historyPageAnswer(after, page);
    this.pollingStats.delivered += answer.listed;
    response.status(200).type('application/json').send(answer.json);
  }
}
