import { parse } from 'cookie';
import type { Socket } from 'socket.io';
import { cookieMayAuthenticate } from '../auth/cookie-credential';
import { bearerToken } from '../auth/read-token';

/**
 * The user token of a handshake: `auth.token`, else `Authorization: Bearer`,
 * else the `access_token` cookie if {@link cookieMayAuthenticate} lets it
 * count. The headers are those of the request that opened the Engine.IO
 * session, whichever request later carries the CONNECT packet.
 */
export function readSocketToken(socket: Socket, allowedOrigins: readonly string[]): string | null {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (typeof auth?.token === 'string' && auth.token !== '') return auth.token;
  const headers = socket.handshake.headers;
  const bearer = bearerToken(headers.authorization);
  if (bearer !== null) return bearer;
  if (typeof headers.cookie === 'string' && cookieMayAuthenticate(headers, allowedOrigins)) {
    const token = parse(headers.cookie).access_token;
    if (token) return token;
  }
  return null;
}
