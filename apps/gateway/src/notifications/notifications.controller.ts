import { Body, Controller, Get, HttpCode, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import {
  CHANNELS,
  type DeliveryStats,
  NotificationService,
  NotificationStore,
  RealtimeMetrics,
  resumePoint,
} from '@app/notifications';
import { cursorFromField } from '../admission/resume-cursor';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { InternalKeyGuard } from '../auth/internal-key.guard';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { ListNotificationsQuery, PublishNotificationRequest } from './notifications.dto';

const DEFAULT_PAGE = 50;

/** Publishing for internal services, and polling (the fallback channel) for users. */
@Controller('api/notifications')
export class NotificationsController {
  private readonly pollingStats: DeliveryStats;

  constructor(
    private readonly notifications: NotificationService,
    private readonly store: NotificationStore,
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

  @Get()
  @UseGuards(UserAuthGuard)
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListNotificationsQuery, @Res() response: Response): Promise<void> {
    const after = cursorFromField(query.after, 'after');
    const page = await this.store.read(user.id, after, query.limit ?? DEFAULT_PAGE, true);
    const { position, reset } = resumePoint(after, page);
    // An unknown cursor continues from the newest position: nothing before it is this client's to list.
    // A trimmed one lists the oldest retained, which is what the read after it returned.
    const items = reset === 'unknown-cursor' ? [] : page.items;
    this.pollingStats.delivered += items.length;
    const lastId = items.length > 0 ? items[items.length - 1].id : after === null ? null : position;
    const resetJson = reset === null ? '' : `,"reset":{"reason":"${reset}"}`;
    // The stored JSON is what SSE sends too: splice it in rather than parse and re-serialize.
    response
      .status(200)
      .type('application/json')
      .send(`{"items":[${items.map((envelope) => envelope.json).join(',')}],"lastId":${JSON.stringify(lastId)}${resetJson}}`);
  }
}
