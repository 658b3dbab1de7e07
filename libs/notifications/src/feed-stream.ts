/**
 * One stream of entries with ids of its own that a feed follows: a user's
 * notifications, or a topic's events. Ids strictly increase within a stream;
 * nothing orders two streams against each other. Built by RedisKeys
 * (`userFeed`, `topicFeed`), which names every key.
 */
export interface FeedStream {
  readonly kind: 'user' | 'topic';
  /** The user id or the topic name. */
  readonly name: string;
  /** Redis stream of the retained entries. */
  readonly history: string;
  /** The newest id trimmed from the history ("0-0" until one is). */
  readonly trimmed: string;
  /** Sharded pub/sub channel of its live entries. */
  readonly channel: string;
  /** A user's read state (inbox.scripts.ts); a topic has none. */
  readonly inbox?: InboxKeys;
}

/** The keys of a user's read state, in the user's slot. */
export interface InboxKeys {
  /** Sorted set of the unread notification ids, padded so that lexical order is id order. */
  readonly unread: string;
  /** Hash: `r` the newest id below which everything is read, `v` the state's version. */
  readonly state: string;
}
