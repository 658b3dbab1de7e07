import { JwtService } from '@nestjs/jwt';
import { TEST_JWT_SECRET } from './start-gateway';

export interface TokenOptions {
  /** Seconds until `exp`; negative for an expired token. Default one hour. */
  expiresInSeconds?: number;
  secret?: string;
  /** Seconds until `nbf`. */
  notBeforeSeconds?: number;
  /** More claims (`topics`, `rooms`). */
  claims?: Record<string, unknown>;
}

/** A user JWT as a real identity provider would issue it. */
export function userToken(userId: string, options: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { ...options.claims, sub: userId, iat: now, exp: now + (options.expiresInSeconds ?? 3600) };
  if (options.notBeforeSeconds !== undefined) claims.nbf = now + options.notBeforeSeconds;
  return new JwtService({ secret: options.secret ?? TEST_JWT_SECRET }).sign(claims, { algorithm: 'HS256' });
}
