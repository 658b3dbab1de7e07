import { Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isUserId, TOPIC_GRANT_PATTERN, UnauthorizedError } from '@app/notifications';
import { ROOM_GRANT_PATTERN } from '../realtime/rooms';
import type { AuthenticatedUser } from './authenticated-user';

/** Verified tokens remembered at most; past it the oldest is forgotten first. */
export const VERIFIED_TOKENS_KEPT = 10_000;

/** Entries a `rooms` or `topics` claim may have; a longer one is malformed. */
export const MAX_ROOM_GRANTS = 256;

const NO_GRANTS: readonly string[] = Object.freeze([]);

/**
 * Verifies user JWTs (HS256 only, `exp` and `nbf` honoured) for every channel.
 *
 * A token that verified is remembered, keyed by the whole token (signature
 * included, so nothing can be forged into a hit), until its `exp`: the same
 * token comes back with every tab, device and reconnect, and an HMAC check
 * costs 60-110 µs of CPU each time, a tenth of opening a stream. A token that
 * failed is never remembered (it may be not yet valid).
 */
@Injectable()
export class UserTokenVerifier {
  private readonly log = new Logger(UserTokenVerifier.name);
  private readonly verified = new Map<string, AuthenticatedUser>();

  constructor(private readonly jwt: JwtService) {}

  verify(token: string | null | undefined): AuthenticatedUser {
    if (!token) throw new UnauthorizedError('missing user token');
    const remembered = this.verified.get(token);
    if (remembered !== undefined) {
      if (remembered.expiresAt === null || remembered.expiresAt > Date.now()) return remembered;
      this.verified.delete(token);
    }
    const user = this.check(token);
    if (this.verified.size >= VERIFIED_TOKENS_KEPT) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, user);
    return user;
  }

  private check(token: string): AuthenticatedUser {
    let claims: { sub?: unknown; exp?: unknown; rooms?: unknown; topics?: unknown };
    try {
      claims = this.jwt.verify(token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthorizedError('invalid or expired user token');
    }
    if (!isUserId(claims.sub)) {
      throw new UnauthorizedError('user token has no valid sub');
    }
    return {
      id: claims.sub,
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
      rooms: this.grants(claims.rooms, 'rooms', ROOM_GRANT_PATTERN),
      topics: this.grants(claims.topics, 'topics', TOPIC_GRANT_PATTERN),
    };
  }

  /**
   * A malformed `rooms` or `topics` claim grants nothing rather than refusing
   * the token: the signature still proves who the user is, and a grant that
   * cannot be read must not cost them their own notifications. It fails
   * closed for that claim only, and is logged so that the identity provider
   * can be fixed.
   */
  private grants(claim: unknown, name: 'rooms' | 'topics', pattern: RegExp): readonly string[] {
    if (claim === undefined) return NO_GRANTS;
    const wellFormed = Array.isArray(claim) && claim.length <= MAX_ROOM_GRANTS && claim.every((grant) => typeof grant === 'string' && pattern.test(grant));
    if (wellFormed) return Object.freeze([...(claim as string[])]);
    const what = name === 'rooms' ? 'room ids' : 'topic names';
    this.log.warn(`a user token's ${name} claim is malformed (want at most ${MAX_ROOM_GRANTS} ${what} or prefixes ending in *): it grants nothing`);
    return NO_GRANTS;
  }

  sign(userId: string, expiresInSeconds: number): string {
    return this.jwt.sign({ sub: userId }, { algorithm: 'HS256', expiresIn: expiresInSeconds });
  }
}
