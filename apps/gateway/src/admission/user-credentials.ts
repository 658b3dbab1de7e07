import { parse as parseCookies } from 'cookie';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
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

/** Headers that carry a credential; once the user is known nothing needs them again. */
export const CREDENTIAL_HEADERS: readonly string[] = ['cookie', 'authorization', 'proxy-authorization'];

/** `url` without its `access_token` query parameter (the rest of the query as it was, or re-encoded when it had one). */
export function withoutAccessToken(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  // Most URLs carry no token: skip the parse. A key can be percent-encoded
  // (`access%5Ftoken` reads as `access_token`), so any '%' takes the slow path.
  if (!url.includes('access_token', query) && !url.includes('%', query)) return url;
  const params = new URLSearchParams(url.slice(query + 1));
  if (!params.has('access_token')) return url;
  params.delete('access_token');
  const rest = params.toString();
  return url.slice(0, query) + (rest === '' ? '' : `?${rest}`);
}

/**
 * Makes an admitted request forget the credentials it came with: the headers,
 * their raw copy, and `?access_token` in its URL. A stream's request lives as
 * long as the stream, for hours; no token should sit in the heap longer than
 * the check that needed it.
 */
export function forgetRequestCredentials(request: IncomingMessage): void {
  let held = false;
  for (const name of CREDENTIAL_HEADERS) {
    if (request.headers[name] === undefined) continue;
    held = true;
    delete request.headers[name];
  }
  // `headers` is built from `rawHeaders`: with no credential in one there is none in the other,
  // and the scan (a lower-casing per header, on every stream open) is skipped.
  if (held) {
    const raw = request.rawHeaders;
    for (let i = raw.length - 2; i >= 0; i -= 2) if (CREDENTIAL_HEADERS.includes(raw[i].toLowerCase())) raw.splice(i, 2);
  }
  if (request.url !== undefined) request.url = withoutAccessToken(request.url);
}

/** A non-empty string; anything else (a repeated query parameter's array, a number in `auth`) is no token. */
function isPresent(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
