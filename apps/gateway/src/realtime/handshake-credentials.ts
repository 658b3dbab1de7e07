/** The parts of a Socket.IO handshake that can carry a credential. */
export interface HandshakeWithCredentials {
  headers: Record<string, string | string[] | undefined>;
  auth: Record<string, unknown>;
  query: Record<string, unknown>;
  url: string;
}

/** Headers that carry a credential; once the socket is authenticated nothing needs them again. */
const CREDENTIAL_HEADERS = ['cookie', 'authorization', 'proxy-authorization'] as const;

/**
 * Removes every credential from a handshake once it has been verified.
 * `fetchSockets()` (and any other remote-socket call of the Redis adapter)
 * serializes `socket.handshake` and publishes it to every instance through
 * Redis; a token or session cookie must not travel, or sit in a heap
 * snapshot, any longer than the check that needed it.
 */
export function dropHandshakeCredentials(handshake: HandshakeWithCredentials): void {
  for (const name of CREDENTIAL_HEADERS) delete handshake.headers[name];
  delete handshake.auth.token;
  delete handshake.query.access_token;
  const query = handshake.url.indexOf('?');
  if (query < 0) return;
  const params = new URLSearchParams(handshake.url.slice(query + 1));
  if (!params.has('access_token')) return;
  params.delete('access_token');
  const rest = params.toString();
  handshake.url = handshake.url.slice(0, query) + (rest === '' ? '' : `?${rest}`);
}

/**
 * Lets go of the HTTP request that opened the session, which Engine.IO keeps
 * for the socket's whole life (for express-session and the like; nothing here
 * reads it once the handshake is built). Its `rawHeaders` and `url` still hold
 * the credentials {@link dropHandshakeCredentials} took out of the handshake,
 * and it is a few kB of every idle socket (Socket.IO's memory-usage guide
 * gives the same advice).
 */
export function releaseOpeningRequest(engineSocket: { request: unknown }): void {
  engineSocket.request = null;
}
