import { CREDENTIAL_HEADERS, withoutAccessToken } from '../admission/user-credentials';

/** The parts of a Socket.IO handshake that can carry a credential. */
export interface HandshakeWithCredentials {
  headers: Record<string, string | string[] | undefined>;
  auth: Record<string, unknown>;
  query: Record<string, unknown>;
  url: string;
}

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
  handshake.url = withoutAccessToken(handshake.url);
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
