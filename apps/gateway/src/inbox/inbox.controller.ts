import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { type InboxPayload, inboxPayload, InboxStore } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { parseMarkReadRequest } from './mark-read.request';

/** A user's read state over REST: the same state SSE and Socket.IO push as `inbox`. */
@Controller('api/notifications')
@UseGuards(UserAuthGuard)
export class InboxController {
  constructor(private readonly inbox: InboxStore) {}

  @Post('read')
  @HttpCode(200)
  async markRead(@CurrentUser() user: AuthenticatedUser, @Body() body: unknown): Promise<InboxPayload> {
    return inboxPayload(await this.inbox.markRead(user.id, parseMarkReadRequest(body)));
  }

  @Get('unread')
  async unread(@CurrentUser() user: AuthenticatedUser): Promise<InboxPayload> {
    return inboxPayload(await this.inbox.state(user.id));
  }
}
