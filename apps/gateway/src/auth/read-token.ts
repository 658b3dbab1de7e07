import type { IncomingHttpHeaders } from 'node:http';
import { cookieMayAuthenticate } from './cookie-credential';

/**
 * The user token of an HTTP request: `Authorization: Bearer`, else the
 * `access_token` cookie if {@link cookieMayAuthenticate} lets it count, else
 * the `access_token` query parameter (EventSource cannot set headers).
 * `cookies` and `query` as cookie-parser and Express's query parser give them.
 */
export function readUserToken(
  headers: IncomingHttpHeaders,
  cookies: Record<string, unknown> | undefined,
  query: Record<string, unknown>,
  allowedOrigins: readonly string[],
): string | null {
  const bearer = bearerToken(headers.authorization);
  if (bearer !== null) return bearer;
  const cookie = cookies?.access_token;
  if (typeof cookie === 'string' && cookie !== '' && cookieMayAuthenticate(headers, allowedOrigins)) return cookie;
  const fromQuery = query.access_token;
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  return null;
}

/** The token of an `Authorization: Bearer <token>` header; null for any other header or none. */
export function bearerToken(authorization: string | undefined): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1] : null;
}
