import { Body, Controller, Get, HttpCode, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
import { BatchPublishedAnswer, NotificationPageAnswer, PublishedAnswer } from '../docs/answer.models';
import { ApiErrorAnswers, ApiInternalAuth, ApiUserAuth } from '../docs/api-docs.decorators';
import { DEFAULT_PAGE, historyPageAnswer } from '../polling/history-page-answer';
import { PollingQuery } from '../polling/polling.dto';
import { PublishBatchRequest, PublishNotificationRequest } from './notifications.dto';

/** Publishing for internal services, and polling (the fallback channel) for users. */
@ApiTags('notifications')
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
  @ApiOperation({
    summary: 'Publish a notification to one user (internal)',
    description: "Stores it in the user's history and delivers it live to every connection of the user, on every instance.",
  })
  @ApiInternalAuth()
  @ApiBody({
    type: PublishNotificationRequest,
    examples: {
      notification: { summary: 'A notification', value: { userId: 'u42', type: 'job-match', data: { jobId: 'j1' }, idempotencyKey: 'job-j1-u42' } },
    },
  })
  @ApiAcceptedResponse({ type: PublishedAnswer, description: 'Stored and sent (or an idempotent repeat: the first id).', example: { id: '1732190000000-0' } })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: 'data must be at most 65536 bytes serialized', field: 'data' }, 413, 415, 503)
  async publish(@Body() body: PublishNotificationRequest): Promise<{ id: string }> {
    const { id } = await this.notifications.publish(body);
    return { id };
  }

  /** Many users at once: validated whole first, then stored in one round trip. */
  @Post('batch')
  @HttpCode(202)
  @UseGuards(InternalKeyGuard)
  @ApiOperation({ summary: 'Publish notifications to many users at once (internal)', description: 'Validated whole first: one bad item stores nothing.' })
  @ApiInternalAuth()
  @ApiBody({
    type: PublishBatchRequest,
    examples: {
      batch: {
        summary: 'Two users',
        value: {
          items: [
            { userId: 'u42', type: 'job-match', data: { jobId: 'j1' }, idempotencyKey: 'job-j1-u42' },
            { userId: 'u43', type: 'job-match', data: { jobId: 'j1' }, idempotencyKey: 'job-j1-u43' },
          ],
        },
      },
    },
  })
  @ApiAcceptedResponse({ type: BatchPublishedAnswer, description: 'Every item stored and sent.', example: { ids: ['1732190000000-0', '1732190000000-1'] } })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: 'items[3].type: type must match ^[a-z0-9][a-z0-9._-]{0,63}$', field: 'items[3].type' }, 413, 415, 503)
  async publishBatch(@Body() body: PublishBatchRequest): Promise<{ ids: string[] }> {
    const results = await this.notifications.publishBatch(body.items);
    return { ids: results.map((result) => result.id) };
  }

  @Get()
  @UseGuards(UserAuthGuard)
  @ApiOperation({
    summary: "List the user's notifications (polling)",
    description: 'The polling fallback: retained notifications after `after`, oldest first, with the ids SSE uses. Send `lastId` as the next `after`.',
  })
  @ApiUserAuth()
  @ApiOkResponse({
    type: NotificationPageAnswer,
    description: 'A page of notifications.',
    example: {
      items: [
        { id: '1732190000500-0', type: 'job-match', userId: 'u42', data: { jobId: 'j2' }, createdAt: '2026-11-21T12:00:00.500Z', read: false },
        { id: '1732190001000-0', type: 'message-received', userId: 'u42', data: { messageId: 'm1' }, createdAt: '2026-11-21T12:00:01.000Z', read: true },
      ],
      lastId: '1732190001000-0',
    },
  })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: 'after must be a notification id like 1732190000000-0', field: 'after' }, 503)
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: PollingQuery, @Res() response: Response): Promise<void> {
    const after = cursorFromField(query.after, 'after');
    const page = await this.store.read(this.keys.userFeed(user.id), after, query.limit ?? DEFAULT_PAGE, true, true);
    const answer = historyPageAnswer(after, page);
    this.pollingStats.delivered += answer.listed;
    response.status(200).type('application/json').send(answer.json);
  }
}
