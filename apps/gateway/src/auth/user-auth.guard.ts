import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { EdgeAdmission } from '../admission/edge-admission';
import type { AuthenticatedUser } from './authenticated-user';

export type UserRequest = Request & { user: AuthenticatedUser };

/** Lets a request through with a valid user token (read by the admission, as on every channel); 401 otherwise. */
@Injectable()
export class UserAuthGuard implements CanActivate {
  constructor(private readonly admission: EdgeAdmission) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<UserRequest>();
    request.user = this.admission.authenticate({ headers: request.headers, queryToken: (request.query as Record<string, unknown>).access_token });
    return true;
  }
}
