import { Controller, Get, Headers, HttpException, HttpStatus, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { NotificationFeed } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { LiveConnections, RETRY_AFTER_SECONDS } from '../connections/live-connections';
import { refusalMessage } from '../connections/refusal-message';
import { parseResumeId, parseTypes, readEventsQuery } from './events.query';
import { SseConnections } from './sse-connections';

/** `GET /api/events`: the user's notifications as Server-Sent Events. */
@Controller('api')
export class EventsController {
  constructor(
    private readonly feed: NotificationFeed,
    private readonly connections: SseConnections,
    private readonly live: LiveConnections,
  ) {}

  @Get('events')
  @UseGuards(UserAuthGuard)
  async stream(
    @CurrentUser() user: AuthenticatedUser,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const query = readEventsQuery(request.query);
    const after = parseResumeId(lastEventIdHeader, query.lastEventId);
    const types = parseTypes(query.types);
    const slot = this.live.admit(user.id);
    if (typeof slot === 'string') {
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS[slot]));
      throw new HttpException(refusalMessage(slot), slot === 'draining' ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.TOO_MANY_REQUESTS);
    }
    request.socket.setTimeout(0);
    const connection = this.connections.add(response, user, slot);
    try {
      connection.attach(await this.feed.open(user.id, { after, types }, connection));
    } catch (error) {
      // Nothing was written yet: the error filter can still answer with a status.
      if (!connection.isOpen) return;
      throw error;
    }
  }
}
