import { parse } from 'cookie';
import type { Socket } from 'socket.io';
import { bearerToken } from '../auth/read-token';

/** The user token of a handshake: `auth.token`, else `Authorization: Bearer`, else the `access_token` cookie. */
export function readSocketToken(socket: Socket): string | null {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (typeof auth?.token === 'string' && auth.token !== '') return auth.token;
  const bearer = bearerToken(socket.handshake.headers.authorization);
  if (bearer !== null) return bearer;
  const cookie = socket.handshake.headers.cookie;
  if (typeof cookie === 'string') {
    const token = parse(cookie).access_token;
    if (token) return token;
  }
  return null;
}
