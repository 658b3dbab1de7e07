import { parse } from 'cookie';
import type { Socket } from 'socket.io';

/** The user token of a handshake: `auth.token`, else `Authorization: Bearer`, else the `access_token` cookie. */
export function readSocketToken(socket: Socket): string | null {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (typeof auth?.token === 'string' && auth.token !== '') return auth.token;
  const header = socket.handshake.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const cookie = socket.handshake.headers.cookie;
  if (typeof cookie === 'string') {
    const token = parse(cookie).access_token;
    if (token) return token;
  }
  return null;
}
