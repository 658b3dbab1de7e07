import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CHANNELS, type DeliveryStats, NotificationStore, RealtimeMetrics, RedisKeys, TopicService } from '@app/notifications';
import { cursorFromField } from '../admission/resume-cursor';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { InternalKeyGuard } from '../auth/internal-key.guard';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { PublishedAnswer, TopicEventPageAnswer } from '../docs/answer.models';
import { ApiErrorAnswers, ApiInternalAuth, ApiUserAuth } from '../docs/api-docs.decorators';
import { DEFAULT_PAGE, historyPageAnswer } from '../polling/history-page-answer';
import { TopicAccess } from './topic-access';
import { PollingQuery, PublishEntryRequest } from '../polling/polling.dto';
import { TopicParams } from './topics.dto';

/** Publishing to a topic for internal services, and polling it for its followers. */
@ApiTags('topics')
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
  @ApiOperation({
    summary: 'Publish an event to a topic (internal)',
    description: "Stored in the topic's history once and delivered to every follower, on every instance and channel.",
  })
  @ApiInternalAuth()
  @ApiBody({
    type: PublishEntryRequest,
    examples: {
      event: {
        summary: 'A new posting on the job board',
        value: { type: 'job-posted', data: { jobId: 'acme-1042', title: 'Senior Node.js engineer', company: 'Acme' }, idempotencyKey: 'posted-acme-1042' },
      },
    },
  })
  @ApiAcceptedResponse({ type: PublishedAnswer, description: 'Stored and sent (or an idempotent repeat: the first id).', example: { id: '1732190000000-0' } })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: 'topic must match ^[a-z0-9][a-z0-9._-]{0,127}$', field: 'topic' }, 413, 415, 503)
  async publish(@Param() params: TopicParams, @Body() body: PublishEntryRequest): Promise<{ id: string }> {
    const { id } = await this.topics.publish(params.topic, body);
    return { id };
  }

  @Get()
  @UseGuards(UserAuthGuard)
  @ApiOperation({
    summary: "List a topic's events (polling)",
    description: "For a follower: the token's `topics` claim or `PUBLIC_TOPICS` (default `jobs.*`) must cover the topic. Retained events after `after`, oldest first.",
  })
  @ApiUserAuth()
  @ApiOkResponse({
    type: TopicEventPageAnswer,
    description: 'A page of events.',
    example: {
      items: [
        {
          id: '1732190000000-0',
          topic: 'jobs.new',
          type: 'job-posted',
          data: { jobId: 'acme-1042', title: 'Senior Node.js engineer', company: 'Acme', location: 'Berlin', remote: false, tags: ['node.js'] },
          createdAt: '2026-11-21T12:00:00.000Z',
        },
      ],
      lastId: '1732190000000-0',
    },
  })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: 'limit must be a whole number from 1 to 200', field: 'limit' }, 403, 503)
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
