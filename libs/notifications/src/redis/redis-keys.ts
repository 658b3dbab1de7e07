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

  /**
   * Remembers the id answered for an idempotency key, for 24 h. The key is
   * escaped so that it holds no `}`: the last `}` then ends the user's id, and
   * user `a` with key `b}:c` no longer meets user `a}:b` with key `c`. Only `%`
   * and `}` are escaped, so keys without them (all the matcher's) keep the key
   * they were stored under before.
   */
  idempotency(userId: string, key: string): string {
    return `${this.prefix}:idempotency:{${userId}}:${key.replace(/[%}]/g, encodeURIComponent)}`;
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

  /** Rate bucket of the direct chats a user sends, counted in messages or in bytes; in the sender's slot. */
  directChatSent(senderId: string, measure: 'messages' | 'bytes'): string {
    return `${this.prefix}:dm-sent-${measure}:{${senderId}}`;
  }

  /** Rate bucket of the direct chats a user receives from everyone; in the recipient's slot. */
  directChatReceived(recipientId: string): string {
    return `${this.prefix}:dm-received:{${recipientId}}`;
  }

  /**
   * Rate bucket of the direct chats one sender sends one recipient; in the
   * recipient's slot. The sender's id is escaped so that it holds no `}`: the
   * last `}` then ends the recipient's id, and no two pairs share a key.
   */
  directChatPair(senderId: string, recipientId: string): string {
    return `${this.prefix}:dm-pair:{${recipientId}}:${encodeURIComponent(senderId)}`;
  }

  /**
   * Hash of a room's members on every instance: user id → how many of the
   * user's sockets are in the room. Its fields are the `members` of a join.
   */
  roomMembers(roomId: string): string {
    return `${this.prefix}:room-members:{${roomId}}`;
  }

  /** Hash of one instance's sockets in a room: socket id → user id. In the room's slot, so one script updates both. */
  roomSockets(roomId: string, instanceId: string): string {
    return `${this.prefix}:room-sockets:{${roomId}}:${instanceId}`;
  }

  /** Set of the room ids where an instance has sockets: where to look once it is dead. */
  instanceRooms(instanceId: string): string {
    return `${this.prefix}:instance-rooms:{${instanceId}}`;
  }

  /** Exists while the instance is alive: it refreshes the key's TTL on a heartbeat. */
  instanceAlive(instanceId: string): string {
    return `${this.prefix}:instance-alive:{${instanceId}}`;
  }

  /** Held by the one instance that is clearing a dead instance's room members. */
  instanceReaping(instanceId: string): string {
    return `${this.prefix}:instance-reaping:{${instanceId}}`;
  }

  /** Set of every instance id that holds room members, alive or not yet cleared. */
  instances(): string {
    return `${this.prefix}:instances`;
  }

  /** Glob matching every key of this deployment (for cleanup in tests and tools). */
  allKeysPattern(): string {
    return `${this.prefix}:*`;
  }
}
