import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { IsString, Matches } from 'class-validator';
import { USER_ID_PATTERN, USER_ID_RULE } from '@app/notifications';
import { UserTokenVerifier } from './user-token.verifier';

const DEV_TOKEN_TTL_SECONDS = 60 * 60;

export class DevTokenRequest {
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `userId ${USER_ID_RULE}` })
  userId!: string;
}

/** Mints user tokens for the demo page and local trials. Mounted only when `config.devTokens` (see DEV_TOKENS). */
@Controller('api/dev')
export class DevTokenController {
  constructor(private readonly tokens: UserTokenVerifier) {}

  @Post('token')
  @HttpCode(200)
  issue(@Body() body: DevTokenRequest): { token: string } {
    return { token: this.tokens.sign(body.userId, DEV_TOKEN_TTL_SECONDS) };
  }
}
