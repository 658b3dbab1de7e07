import { type Refusal, RETRY_AFTER_SECONDS } from './live-connections';

/**
 * A long-lived connection the instance does not take: it is draining, or a cap
 * is reached. HTTP answers it 503 (draining) or 429 with `Retry-After`;
 * Socket.IO with `connect_error` `too_many_connections` (or, draining, a closed
 * transport that the client retries elsewhere).
 */
export class ConnectionRefusedError extends Error {
  readonly retryAfterSeconds: number;

  constructor(readonly refusal: Refusal) {
    super(refusalMessage(refusal));
    this.name = 'ConnectionRefusedError';
    this.retryAfterSeconds = RETRY_AFTER_SECONDS[refusal];
  }
}

/** The one wording of each refusal, for the HTTP body and the Socket.IO connect_error data. */
function refusalMessage(refusal: Refusal): string {
  switch (refusal) {
    case 'draining':
      return 'shutting down: reconnect to another instance';
    case 'user-limit':
      return 'too many connections for this user on this instance (MAX_CONNECTIONS_PER_USER)';
    case 'instance-limit':
      return 'this instance is full (MAX_CONNECTIONS_PER_INSTANCE): try again shortly';
  }
}
