import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type InboxPayload, inboxPayload, InboxStore } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { InboxAnswer } from '../docs/answer.models';
import { ApiErrorAnswers, ApiUserAuth } from '../docs/api-docs.decorators';
import { MARK_READ_REQUEST_SCHEMA, parseMarkReadRequest } from './mark-read.request';

const INBOX_EXAMPLE = { unread: 3, readUpTo: '1732190001000-0' };

/** A user's read state over REST: the same state SSE and Socket.IO push as `inbox`. */
@ApiTags('inbox')
@ApiUserAuth()
@Controller('api/notifications')
@UseGuards(UserAuthGuard)
export class InboxController {
  constructor(private readonly inbox: InboxStore) {}

  @Post('read')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Mark notifications read',
    description: 'Exactly one of `ids` and `upTo`. Every connection of the user then receives `inbox` with the new state.',
  })
  @ApiBody({
    schema: MARK_READ_REQUEST_SCHEMA,
    examples: {
      ids: { summary: 'These notifications', value: { ids: ['1732190000000-0', '1732190000500-0'] } },
      upTo: { summary: 'Everything up to this id', value: { upTo: '1732190001000-0' } },
    },
  })
  @ApiOkResponse({ type: InboxAnswer, description: 'The read state after the read.', example: INBOX_EXAMPLE })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: 'ids[1] must be a notification id like 1732190000000-0', field: 'ids[1]' }, 413, 415, 503)
  async markRead(@CurrentUser() user: AuthenticatedUser, @Body() body: unknown): Promise<InboxPayload> {
    return inboxPayload(await this.inbox.markRead(user.id, parseMarkReadRequest(body)));
  }

  @Get('unread')
  @ApiOperation({ summary: "The user's unread count and read position" })
  @ApiOkResponse({ type: InboxAnswer, description: 'The read state.', example: INBOX_EXAMPLE })
  @ApiErrorAnswers(503)
  async unread(@CurrentUser() user: AuthenticatedUser): Promise<InboxPayload> {
    return inboxPayload(await this.inbox.state(user.id));
  }
}
