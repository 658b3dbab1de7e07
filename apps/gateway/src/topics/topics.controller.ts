import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { CHANNELS, type DeliveryStats, NotificationStore, RealtimeMetrics, RedisKeys, TopicService } from '@app/notifications';
import { cursorFromField } from '../admission/resume-cursor';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { InternalKeyGuard } from '../auth/internal-key.guard';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { DEFAULT_PAGE, historyPageAnswer } from '../polling/history-page-answer';
import { TopicAccess } from './topic-access';
import { PollingQuery, PublishEntryRequest } from '../polling/polling.dto';
import { TopicParams } from './topics.dto';

/** Publishing to a topic for internal services, and polling it for its followers. */
@Controller('api/topics/:topic/events')
export class TopicsController {
  private readonly pollingStats: DeliveryStats;

  constructor(
    private readonly topics: TopicService,
    private readonly store: NotificationStore,
    private readonly keys: RedisKeys,
    private readonly access: TopicAccess,
    metrics: RealtimeMetrics,
  ) {
    this.pollingStats = metrics.channel(CHANNELS.polling);
  }

  @Post()
  @HttpCode(202)
  @UseGuards(InternalKeyGuard)
  async publish(@Param() params: TopicParams, @Body() body: PublishEntryRequest): Promise<{ id: string }> {
    const { id } = await this.topics.publish(params.topic, body);
    return { id };
  }

  @Get()
  @UseGuards(UserAuthGuard)
  async list(
    @CurrentUser() user: AuthenticatedUser,
    @Param() params: TopicParams,
    @Query() query: PollingQuery,
    @Res() response: Response,
  ): Promise<void> {
    this.access.assertMayFollow(user, [params.topic]);
    const after = cursorFromField(query.after, 'after');
    const page = await this.store.read(this.keys.topicFeed(params.topic), after, query.limit ?? DEFAULT_PAGE, true);
    const answer = historyPageAnswer(after, page);
    this.pollingStats.delivered += answer.listed;
    response.status(200).type('application/json').send(answer.json);
  }
}
