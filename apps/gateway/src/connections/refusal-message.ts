import type { Refusal } from './live-connections';

/** The one wording of each refusal, for the HTTP 429/503 body and the Socket.IO connect_error data. */
export function refusalMessage(refusal: Refusal): string {
  switch (refusal) {
    case 'draining':
      return 'shutting down: reconnect to another instance';
    case 'user-limit':
      return 'too many connections for this user on this instance (MAX_CONNECTIONS_PER_USER)';
    case 'instance-limit':
      return 'this instance is full (MAX_CONNECTIONS_PER_INSTANCE): try again shortly';
  }
}
