import type { IncomingHttpHeaders } from 'node:http';

/**
 * The origin rules of every channel, in one place: which browser origins may
 * read answers cross-origin (CORS), open a socket, and have a cookie count as
 * a credential. "Allowed" is always the same set: the gateway's own origin and
 * those in CORS_ORIGINS.
 */

/**
 * An `Origin` header that names the gateway itself (same host and port as the
 * `Host` the request came in with; the scheme is the proxy's business) or one
 * listed in CORS_ORIGINS. `null` (sandboxed frames, redirects) never matches.
 */
export function isAllowedOrigin(origin: string, host: string | undefined, allowedOrigins: readonly string[]): boolean {
  if (allowedOrigins.includes(origin)) return true;
  if (host === undefined) return false;
  try {
    const { protocol, host: originHost } = new URL(origin);
    // The Host header parsed with the Origin's scheme, so that `h:443` and `https://h` agree.
    return (protocol === 'http:' || protocol === 'https:') && new URL(`${protocol}//${host}`).host === originHost;
  } catch {
    return false;
  }
}

/**
 * Whether a Socket.IO handshake (long-polling or WebSocket) may proceed. CORS
 * headers do not bind WebSockets, and a cookie may carry the token, so a
 * foreign browser origin is refused before anything is read. No Origin at all
 * is not a browser page (or a no-cors request, which can only ride a cookie,
 * and the cookie then does not count: {@link cookieMayAuthenticate}).
 */
export function handshakeOriginAllowed(headers: IncomingHttpHeaders, allowedOrigins: readonly string[]): boolean {
  return headers.origin === undefined || isAllowedOrigin(headers.origin, headers.host, allowedOrigins);
}

/**
 * Whether the `access_token` cookie may authenticate this request, on every
 * channel (REST, SSE, the Socket.IO handshake).
 *
 * A browser attaches cookies to requests that any page starts (`<script>`,
 * `<img>`, forms, no-cors fetches), and SameSite does not stop a sibling
 * origin of the same site. So the cookie is a credential only when the
 * browser says the request comes from an allowed origin: the gateway's own or
 * one in CORS_ORIGINS.
 * - `Origin` decides when present (browsers send it on CORS requests, on
 *   every POST and on WebSockets), and is unforgeable by a page.
 * - Without it, `Sec-Fetch-Site` decides (every current browser sends it on
 *   every request): `same-origin` counts; `none` (the user typed the URL or
 *   followed a bookmark) counts for a top-level navigation only, whose answer
 *   only the user sees; `same-site` and `cross-site` never count, since
 *   without an Origin their page cannot be checked against CORS_ORIGINS.
 * - Neither header: not a request a browser made from our page, so the cookie
 *   does not count. Non-browser clients send the token in `Authorization`,
 *   `auth.token` or `?access_token`, which are never ambient.
 */
export function cookieMayAuthenticate(headers: IncomingHttpHeaders, allowedOrigins: readonly string[]): boolean {
  const origin = headers.origin;
  if (origin !== undefined) return isAllowedOrigin(origin, headers.host, allowedOrigins);
  switch (headers['sec-fetch-site']) {
    case 'same-origin':
      return true;
    case 'none':
      return headers['sec-fetch-mode'] === 'navigate';
    default:
      return false;
  }
}

/**
 * The options of the `cors` package for CORS_ORIGINS, the same for the
 * Express routes, the event stream (served ahead of Express) and Socket.IO's
 * long-polling (engine.io runs the same package); null when none is set, so
 * that no CORS header is sent and only same-origin pages can read answers.
 */
export function corsOptions(allowedOrigins: readonly string[]): { origin: string[]; credentials: true } | null {
  if (allowedOrigins.length === 0) return null;
  return { origin: [...allowedOrigins], credentials: true };
}
