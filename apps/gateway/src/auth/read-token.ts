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
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const cookie = cookies?.access_token;
  if (typeof cookie === 'string' && cookie !== '') return cookie;
  const fromQuery = query.access_token;
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  return null;
}
