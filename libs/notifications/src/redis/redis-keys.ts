/**
 * Every Redis key and channel the system writes is built here from
 * REDIS_KEY_PREFIX, so two deployments (or two test runs) never meet.
 * User ids sit in a `{hash tag}` so one user's keys share a cluster slot, which
 * the append script needs.
 */
export class RedisKeys {
  private readonly liveChannelPrefix: string;

  constructor(readonly prefix: string) {
    this.liveChannelPrefix = `${prefix}:live:`;
  }

  /** Stream of the user's retained notifications (history and replay). Not under `:notifications:`, BullMQ's queue of that name. */
  userStream(userId: string): string {
    return `${this.prefix}:history:{${userId}}`;
  }

  /** The newest id trimmed from the user's stream: resuming before it means history was lost. */
  trimmedWatermark(userId: string): string {
    return `${this.prefix}:trimmed:{${userId}}`;
  }

  /** Remembers the id answered for an idempotency key, for 24 h. */
  idempotency(userId: string, key: string): string {
    return `${this.prefix}:idempotency:{${userId}}:${key}`;
  }

  /** Pub/sub channel carrying the user's live notifications to every instance. */
  userChannel(userId: string): string {
    return this.liveChannelPrefix + userId;
  }

  /** The user id of a channel built by {@link userChannel}, or null. */
  userOfChannel(channel: string): string | null {
    return channel.startsWith(this.liveChannelPrefix) ? channel.slice(this.liveChannelPrefix.length) : null;
  }

  /** Hash of one user's saved searches: id → JSON. */
  userSavedSearches(userId: string): string {
    return `${this.prefix}:saved-searches:{${userId}}`;
  }

  /** Hash of every saved search: id → JSON, read by the matcher. */
  savedSearchesById(): string {
    return `${this.prefix}:saved-searches-by-id`;
  }

  /** Set of the saved search ids indexed under a word (see anchorWord). */
  searchIndex(word: string): string {
    return `${this.prefix}:search-index:${word}`;
  }

  /** Channel prefix of the Socket.IO Redis adapter (rooms, chat, typing across instances). */
  socketIoAdapter(): string {
    return `${this.prefix}:socket.io`;
  }

  /** Marks a user who just left a room as "in the presence grace period" there. */
  presenceGrace(roomId: string, userId: string): string {
    return `${this.prefix}:presence-grace:{${roomId}}:${userId}`;
  }

  /** Glob matching every key of this deployment (for cleanup in tests and tools). */
  allKeysPattern(): string {
    return `${this.prefix}:*`;
  }
}
