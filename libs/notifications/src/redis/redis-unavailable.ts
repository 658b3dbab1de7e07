/** Redis cannot be reached right now; the operation did nothing. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * True for errors that mean "Redis cannot be reached right now" (as opposed to
 * a bad command): callers answer 503 and clients retry, with their
 * idempotency key, since a command cut off in flight may still have run.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof RedisUnavailableError) return true;
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'AbortError') return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE') return true;
  return /Connection is closed|Stream isn't writeable|enableOfflineQueue options is false|LOADING|connect ETIMEDOUT|Command timed out/.test(error.message);
}
