import { parse as parseCookies } from 'cookie';
import type { IncomingHttpHeaders } from 'node:http';
import { cookieMayAuthenticate } from './origin-policy';

/** Where a request or handshake may carry the user token. */
export interface CredentialSources {
  readonly headers: IncomingHttpHeaders;
  /** Socket.IO handshake `auth.token`: a socket's own credential, read first. */
  readonly authToken?: unknown;
  /** The `access_token` query parameter of an HTTP request (EventSource cannot set headers). */
  readonly queryToken?: unknown;
}

/**
 * The user token of a request or handshake, from the first source present:
 * `auth.token` (Socket.IO), `Authorization: Bearer`, the `access_token` cookie
 * if {@link cookieMayAuthenticate} lets it count, then `?access_token` (HTTP).
 * Null when there is none. The first token found is the one verified: a bad
 * one never falls back to the next source.
 */
export function readUserToken(sources: CredentialSources, allowedOrigins: readonly string[]): string | null {
  if (isPresent(sources.authToken)) return sources.authToken;
  const { headers } = sources;
  const bearer = bearerToken(headers.authorization);
  if (bearer !== null) return bearer;
  // The origin check first: it is cheaper than parsing the cookies, and usually says no.
  if (headers.cookie !== undefined && cookieMayAuthenticate(headers, allowedOrigins)) {
    const cookie = parseCookies(headers.cookie).access_token;
    if (isPresent(cookie)) return cookie;
  }
  return isPresent(sources.queryToken) ? sources.queryToken : null;
}

/** The token of an `Authorization: Bearer <token>` header; null for any other header or none. */
export function bearerToken(authorization: string | undefined): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1] : null;
}

/** A non-empty string; anything else (a repeated query parameter's array, a number in `auth`) is no token. */
function isPresent(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
