import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@app/notifications';
import type { AuthenticatedUser } from './authenticated-user';
import { readUserToken } from './read-token';
import { UserTokenVerifier } from './user-token.verifier';

export type UserRequest = Request & { user: AuthenticatedUser };

/** Lets a request through with a valid user token; 401 otherwise. */
@Injectable()
export class UserAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: UserTokenVerifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<UserRequest>();
    const cookies = request.cookies as Record<string, unknown> | undefined;
    request.user = this.verifier.verify(readUserToken(request.headers, cookies, request.query, this.config.corsOrigins));
    return true;
  }
}
