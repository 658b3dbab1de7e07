/**
 * The user token of an HTTP request: `Authorization: Bearer`, else the
 * `access_token` cookie, else the `access_token` query parameter (EventSource
 * cannot set headers). `cookies` and `query` as cookie-parser and Express's
 * query parser give them.
 */
export function readUserToken(
  authorization: string | undefined,
  cookies: Record<string, unknown> | undefined,
  query: Record<string, unknown>,
): string | null {
  const bearer = bearerToken(authorization);
  if (bearer !== null) return bearer;
  const cookie = cookies?.access_token;
  if (typeof cookie === 'string' && cookie !== '') return cookie;
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
