import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { UnauthorizedError, USER_ID_PATTERN } from '@app/notifications';
import type { AuthenticatedUser } from './authenticated-user';

/** Verifies user JWTs (HS256 only, `exp` and `nbf` honoured) for every channel. */
@Injectable()
export class UserTokenVerifier {
  constructor(private readonly jwt: JwtService) {}

  verify(token: string | null | undefined): AuthenticatedUser {
    if (!token) throw new UnauthorizedError('missing user token');
    let claims: { sub?: unknown; exp?: unknown };
    try {
      claims = this.jwt.verify(token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthorizedError('invalid or expired user token');
    }
    if (typeof claims.sub !== 'string' || !USER_ID_PATTERN.test(claims.sub)) {
      throw new UnauthorizedError('user token has no valid sub');
    }
    return { id: claims.sub, expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null };
  }

  sign(userId: string, expiresInSeconds: number): string {
    return this.jwt.sign({ sub: userId }, { algorithm: 'HS256', expiresIn: expiresInSeconds });
  }
}
