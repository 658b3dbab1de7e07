import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthenticatedUser } from './authenticated-user';
import { readUserToken } from './read-token';
import { UserTokenVerifier } from './user-token.verifier';

export type UserRequest = Request & { user: AuthenticatedUser };

/** Lets a request through with a valid user token; 401 otherwise. */
@Injectable()
export class UserAuthGuard implements CanActivate {
  constructor(private readonly verifier: UserTokenVerifier) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<UserRequest>();
    request.user = this.verifier.verify(readUserToken(request.headers.authorization, request.cookies as Record<string, unknown> | undefined, request.query));
    return true;
  }
}
