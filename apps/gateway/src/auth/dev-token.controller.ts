import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { USER_ID_PATTERN, USER_ID_RULE } from '@app/notifications';
import { DevTokenAnswer } from '../docs/answer.models';
import { ApiErrorAnswers } from '../docs/api-docs.decorators';
import { UserTokenVerifier } from './user-token.verifier';

const DEV_TOKEN_TTL_SECONDS = 60 * 60;

export class DevTokenRequest {
  @ApiProperty({ type: String, pattern: USER_ID_PATTERN.source, description: `The user to sign in as: a user id, which ${USER_ID_RULE}.`, example: 'u42' })
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `userId ${USER_ID_RULE}` })
  userId!: string;
}

/** Mints user tokens for the demo page and local trials. Mounted only when `config.devTokens` (see DEV_TOKENS). */
@ApiTags('dev')
@Controller('api/dev')
export class DevTokenController {
  constructor(private readonly tokens: UserTokenVerifier) {}

  @Post('token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Mint a user token (development only)',
    description:
      'Exists only outside `NODE_ENV=production`, and only when `JWT_SECRET` is unset or `DEV_TOKENS=true`; elsewhere a 404 (and absent from this document). Whoever reaches it can sign in as any user.',
  })
  @ApiBody({ type: DevTokenRequest, examples: { user: { summary: 'Sign in as u42', value: { userId: 'u42' } } } })
  @ApiOkResponse({ type: DevTokenAnswer, description: 'A token valid for 1 hour.', example: { token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1NDIifQ.c2lnbmF0dXJl' } })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: `userId ${USER_ID_RULE}`, field: 'userId' }, 413, 415)
  issue(@Body() body: DevTokenRequest): { token: string } {
    return { token: this.tokens.sign(body.userId, DEV_TOKEN_TTL_SECONDS) };
  }
}
