import type { Request } from 'express';

/**
 * The user token of an HTTP request: `Authorization: Bearer`, else the
 * `access_token` cookie, else the `access_token` query parameter (EventSource
 * cannot set headers).
 */
export function readUserToken(request: Request): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const cookie = (request.cookies as Record<string, unknown> | undefined)?.access_token;
  if (typeof cookie === 'string' && cookie !== '') return cookie;
  const query = request.query.access_token;
  if (typeof query === 'string' && query !== '') return query;
  return null;
}
