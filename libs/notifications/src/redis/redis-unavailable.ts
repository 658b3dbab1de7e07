/** Redis cannot be reached right now; the operation did nothing. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Replies that mean "not now" rather than "wrong", by their error code (the
 * reply's first word): a server loading its data, a replica or a demoted
 * primary refusing a write during a failover, a cluster without a primary for
 * a slot or moving one, too few replicas.
 */
const TRANSIENT_REPLIES: ReadonlySet<string> = new Set(['LOADING', 'READONLY', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'NOREPLICAS']);
/** Socket errors of a connection that is away. */
const CONNECTION_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);
/**
 * ioredis's own errors for a connection that is away or a command it gave up
 * on. It gives them neither a class nor a code, so they are known by their
 * exact text (ioredis 5: Redis.ts, Command.ts, cluster/index.ts).
 */
const CLIENT_GAVE_UP: ReadonlySet<string> = new Set([
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Command timed out',
  'Failed to refresh slots cache.',
  'None of startup nodes is available',
]);
/**
 * ioredis's cluster client gives up with this, followed by the last error,
 * once a command was redirected or retried `maxRedirections` times: the slots
 * kept moving or had no primary (a failover in progress).
 */
const CLUSTER_GAVE_UP_PREFIX = 'Too many Cluster redirections.';
/** Error classes ioredis throws when it gave up on a command for the connection's sake. */
const CLIENT_GAVE_UP_NAMES: ReadonlySet<string> = new Set(['MaxRetriesPerRequestError', 'AbortError', 'ClusterAllFailedError']);

/**
 * True for errors that mean "Redis cannot be reached right now" (as opposed to
 * a bad command): callers answer 503 and clients retry, with their
 * idempotency key, since a command cut off in flight may still have run.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof RedisUnavailableError || CLIENT_GAVE_UP_NAMES.has(error.name)) return true;
  if (error.name === 'ReplyError') return TRANSIENT_REPLIES.has(error.message.split(' ', 1)[0]);
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_CODES.has(code)) || CLIENT_GAVE_UP.has(error.message) || error.message.startsWith(CLUSTER_GAVE_UP_PREFIX);
}
