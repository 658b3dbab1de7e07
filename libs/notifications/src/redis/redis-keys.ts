import { createHash } from 'node:crypto';
import type { FeedStream } from '../feed-stream';

/**
 * Every Redis key and channel the system writes is built here from
 * REDIS_KEY_PREFIX, so two deployments (or two test runs) never meet.
 * Each user's keys and live channel share one `{hash tag}`, so they share a
 * cluster slot: the append script touches them together (see userTag).
 */
export class RedisKeys {
  private readonly liveChannelPrefix: string;

  constructor(readonly prefix: string) {
    this.liveChannelPrefix = `${prefix}:live:`;
  }

  /** Stream of the user's retained notifications (history and replay). Not under `:notifications:`, BullMQ's queue of that name. */
  userStream(userId: string): string {
    return `${this.prefix}:history:${userTag(userId)}`;
  }

  /** The newest id trimmed from the user's stream: resuming before it means history was lost. */
  trimmedWatermark(userId: string): string {
    return `${this.prefix}:trimmed:${userTag(userId)}`;
  }

  /**
   * Remembers the id answered for an idempotency key, for 24 h. The key is
   * escaped so that it holds no `}` (a cluster reads the tag up to the first
   * `}`). Only `%` and `}` are escaped, so keys without them (all the
   * matcher's) keep the key they were stored under before.
   */
  idempotency(userId: string, key: string): string {
    return `${this.prefix}:idempotency:${userTag(userId)}:${key.replace(/[%}]/g, encodeURIComponent)}`;
  }

  /**
   * Sharded pub/sub channel (SPUBLISH) carrying the user's live notifications
   * to every instance; in the user's slot, so the append script may publish on
   * it and a cluster spreads the channels over its shards like the keys.
   */
  userChannel(userId: string): string {
    return this.liveChannelPrefix + userTag(userId);
  }

  /**
   * Sharded channels on which one process proves its subscriptions deliver
   * (DeliveryProbe): the n-th lands in a slot of its own, so that one of
   * them can be found on every cluster primary.
   */
  deliveryProbe(processId: string): (n: string) => string {
    return (n) => `${this.prefix}:probe:{${processId}.${n}}`;
  }

  /** The user's notifications as a stream a feed follows. */
  userFeed(userId: string): FeedStream {
    const tag = userTag(userId);
    return {
      kind: 'user',
      name: userId,
      history: this.userStream(userId),
      trimmed: this.trimmedWatermark(userId),
      channel: this.userChannel(userId),
      inbox: { unread: `${this.prefix}:unread:${tag}`, state: `${this.prefix}:inbox:${tag}` },
    };
  }

  /**
   * A topic's events as a stream a feed follows. Topic names (TOPIC_NAME_PATTERN)
   * hold no brace, so `{name}` is the topic's slot: its history, trim
   * watermark, idempotency keys and live channel are touched by one script.
   * The key names differ from a user's, so a user id equal to a topic name
   * shares at most a slot with it, never a key.
   */
  topicFeed(topic: string): FeedStream {
    return {
      kind: 'topic',
      name: topic,
      history: `${this.prefix}:topic-history:{${topic}}`,
      trimmed: `${this.prefix}:topic-trimmed:{${topic}}`,
      channel: `${this.prefix}:topic-live:{${topic}}`,
    };
  }

  /** The idempotency key of an entry of any stream (see {@link idempotency} for the escaping). */
  streamIdempotency(stream: FeedStream, key: string): string {
    if (stream.kind === 'user') return this.idempotency(stream.name, key);
    return `${this.prefix}:topic-idempotency:{${stream.name}}:${key.replace(/[%}]/g, encodeURIComponent)}`;
  }

  /** Hash of one user's saved searches: id → JSON. */
  userSavedSearches(userId: string): string {
    return `${this.prefix}:saved-searches:${userTag(userId)}`;
  }

  /**
   * Hash of every saved search: id → JSON, read by the matcher. It and the
   * word index share the `{match}` slot, so the matcher's union and reads
   * never span slots.
   */
  savedSearchesById(): string {
    return `${this.prefix}:saved-searches-by-id:{match}`;
  }

  /** Set of the saved search ids indexed under a word (see anchorWord); in the `{match}` slot. */
  searchIndex(word: string): string {
    return `${this.prefix}:search-index:{match}:${word}`;
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
    return `${this.prefix}:dm-sent-${measure}:${userTag(senderId)}`;
  }

  /** Rate bucket of the direct chats a user receives from everyone; in the recipient's slot. */
  directChatReceived(recipientId: string): string {
    return `${this.prefix}:dm-received:${userTag(recipientId)}`;
  }

  /**
   * Rate bucket of the direct chats one sender sends one recipient; in the
   * recipient's slot. The sender's id is escaped so that no two pairs share a key.
   */
  directChatPair(senderId: string, recipientId: string): string {
    return `${this.prefix}:dm-pair:${userTag(recipientId)}:${encodeURIComponent(senderId)}`;
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

/**
 * The part of a user's keys that picks their cluster slot: `{id}`. A cluster
 * hashes what lies between the first `{` and the next `}`, so an id holding a
 * brace would scatter its keys over several slots (`}x` hashes the whole key);
 * such an id gets a tag of its SHA-1 instead, followed by the id itself,
 * escaped, which keeps every user's keys distinct. Ids without braces keep the
 * keys they always had.
 */
export function userTag(userId: string): string {
  if (!userId.includes('{') && !userId.includes('}')) return `{${userId}}`;
  return `{${createHash('sha1').update(userId).digest('hex')}}:${encodeURIComponent(userId)}`;
}
