import { Controller, Get, Headers, Query, Req, Res, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { NotificationFeed } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { EventsQuery, parseResumeId, parseTypes } from './events.query';
import { SseConnections } from './sse-connections';

/** `GET /api/events`: the user's notifications as Server-Sent Events. */
@Controller('api')
export class EventsController {
  constructor(
    private readonly feed: NotificationFeed,
    private readonly connections: SseConnections,
  ) {}

  @Get('events')
  @UseGuards(UserAuthGuard)
  async stream(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: EventsQuery,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const after = parseResumeId(lastEventIdHeader, query.lastEventId);
    const types = parseTypes(query.types);
    if (this.connections.isDraining) throw new ServiceUnavailableException('shutting down: reconnect to another instance');
    request.socket.setTimeout(0);
    const connection = this.connections.add(response, user);
    try {
      connection.attach(await this.feed.open(user.id, { after, types }, connection));
    } catch (error) {
      // Nothing was written yet: the error filter can still answer with a status.
      if (!connection.isOpen) return;
      throw error;
    }
  }
}
