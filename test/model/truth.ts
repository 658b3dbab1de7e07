import type { Route } from './fleet';
import type { InboxRead } from './inbox-truth';
import { RedisKeys } from '../../libs/notifications/src/redis/redis-keys';
import { type RedisClient, scanPrimaries, testRedisClient } from '../support/redis';

/*
 * The accepted sequence of each stream (a user's notifications, a topic's
 * events), learnt apart from the gateway's delivery path: a monitor connection
 * SSUBSCRIBEs to every stream's live channel before the schedule's first
 * publish. The append script stores and publishes in one step, so the channel
 * carries each stored entry once, in stream order: "<id> <type> <JSON>". It is
 * cross-checked with the answers to the publishes (the ledger) and with XRANGE
 * of the stream. A stream is named by its user id or its topic name (the model's
 * topic names start with a prefix no model user id has).
 */

export interface TruthItem {
  id: string;
  type: string;
  /** The user id or the topic name the entry says it belongs to. */
  stream: string;
  /** The sequence number the model put in `data` (null: none, itself a finding). */
  seq: number | null;
  messageId?: string;
  /** performance.now() when the monitor received it: it was stored before. */
  seenAt: number;
}

export type Via = 'rest' | 'burst' | 'queue' | 'chat' | 'republish' | 'big';

/** One publish the model made, and how it was answered. */
export interface Sent {
  seq: number;
  /** The user or topic it was published to. */
  stream: string;
  via: Via;
  /** performance.now() when the request left: anything stored for it was stored after. */
  sentAt: number;
  /** 'accepted' with the id answered; 'refused' with the status; 'unknown' (no answer, e.g. the gateway died). */
  outcome: { kind: 'pending' } | { kind: 'accepted'; id: string } | { kind: 'refused'; status: number | string; body?: string } | { kind: 'unknown'; error: string };
  idempotencyKey?: string;
  /** For a re-publish: the seq of the first publish with this key. */
  sameAs?: number;
  jobId?: string;
  /** The queued job's state when last read (waiting, active, delayed...): says why a job never finished. */
  jobState?: string;
  messageId?: string;
  /** The gateway it went to, and when the answer came: a refusal is excused only by an outage there. */
  route?: Route;
  answeredAt?: number;
}

/** The notification's sequence number, from `data.seq` or, for direct chat, `#<seq>` in the content. */
export function seqOf(notification: { type?: string; data?: Record<string, unknown> }): number | null {
  const data = notification.data ?? {};
  if (typeof data.seq === 'number') return data.seq;
  const match = typeof data.content === 'string' ? /#(\d+)$/.exec(data.content) : null;
  return match ? Number(match[1]) : null;
}

export class Truth {
  private readonly monitor: RedisClient;
  private readonly keys: RedisKeys;
  private readonly byStream = new Map<string, TruthItem[]>();
  /** Live channel → the stream it carries. */
  private readonly channels = new Map<string, { stream: string; topic: boolean }>();
  /** Every publish of the schedule, in the order it was sent; a re-publish repeats its first's seq. */
  readonly sent: Sent[] = [];
  private readonly firstSentAt = new Map<number, number>();
  /** Messages the monitor could not read: each is a finding. */
  readonly garbled: string[] = [];
  /** Every read (`POST /api/notifications/read`, `inbox:read`) of the schedule, in the order it was sent (inbox-truth.ts). */
  readonly reads: InboxRead[] = [];
  /** The last read state each user's channel carried (`<unread> <readUpTo> <version>`): for the report only, never the truth. */
  readonly inboxHeard = new Map<string, string>();

  constructor(
    redisUrl: string,
    private readonly prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
    // On a cluster, one subscriber connection per primary: each channel is SSUBSCRIBEd on the node of its slot.
    this.monitor = testRedisClient({ connectionName: `${prefix}:model-monitor` }, redisUrl, { shardedSubscribers: true });
    this.redisUrl = redisUrl;
    this.monitor.on('smessage', (channel: string, message: string) => this.onMessage(channel, message));
  }

  /** Subscribes to the users' and topics' channels; resolves once Redis confirmed, i.e. before any publish to them. */
  async watch(users: string[], topics: string[]): Promise<void> {
    const channels: string[] = [];
    for (const [stream, topic] of [...users.map((user) => [user, false] as const), ...topics.map((name) => [name, true] as const)]) {
      this.byStream.set(stream, []);
      const channel = topic ? this.keys.topicFeed(stream).channel : this.keys.userChannel(stream);
      this.channels.set(channel, { stream, topic });
      channels.push(channel);
    }
    // One SSUBSCRIBE a channel: on a cluster they lie in many slots.
    await Promise.all(channels.map((channel) => this.monitor.ssubscribe(channel)));
  }

  async unwatch(): Promise<void> {
    const channels = [...this.channels.keys()];
    this.channels.clear();
    this.byStream.clear();
    this.sent.length = 0;
    this.firstSentAt.clear();
    this.garbled.length = 0;
    this.reads.length = 0;
    this.inboxHeard.clear();
    await Promise.all(channels.map((channel) => this.monitor.sunsubscribe(channel)));
  }

  /** The stream's accepted entries, in stream order. */
  items(stream: string): TruthItem[] {
    return this.byStream.get(stream) ?? [];
  }

  indexOf(stream: string, id: string): number {
    const items = this.items(stream);
    for (let i = items.length - 1; i >= 0; i--) if (items[i].id === id) return i;
    return -1;
  }

  /** How many of the stream's entries were certainly stored before `t` (the monitor had them). */
  storedBefore(stream: string, t: number): number {
    return this.items(stream).filter((item) => item.seenAt < t).length;
  }

  /** How many of the stream's entries may have been stored by `t` (their publish had been sent). */
  mayBeStoredBy(stream: string, t: number): number {
    return this.items(stream).filter((item) => (this.sentAtOf(item) ?? -Infinity) < t).length;
  }

  /** When the first publish that could have stored this item was sent (null: the model never sent its seq). */
  sentAtOf(item: TruthItem): number | null {
    return item.seq === null ? null : (this.firstSentAt.get(item.seq) ?? null);
  }

  record(sent: Sent): Sent {
    this.sent.push(sent);
    if (!this.firstSentAt.has(sent.seq)) this.firstSentAt.set(sent.seq, sent.sentAt);
    return sent;
  }

  isTopic(stream: string): boolean {
    return [...this.channels.values()].some((watched) => watched.topic && watched.stream === stream);
  }

  /** The stream's retained history as Redis holds it: ids, oldest first. */
  async stream(stream: string): Promise<string[]> {
    const key = this.isTopic(stream) ? this.keys.topicFeed(stream).history : this.keys.userStream(stream);
    const entries = await this.monitorlessClient().xrange(key, '-', '+');
    return entries.map(([id]) => id);
  }

  /** Deletes the streams' keys (history, trim watermark, idempotency keys) so a long run does not fill Redis. */
  async forget(users: string[], topics: string[]): Promise<void> {
    const redis = this.monitorlessClient();
    const feeds = [...users.map((user) => this.keys.userFeed(user)), ...topics.map((topic) => this.keys.topicFeed(topic))];
    const keys = feeds.flatMap((feed) => [feed.history, feed.trimmed, ...(feed.inbox ? [feed.inbox.unread, feed.inbox.state] : [])]);
    const idempotency = feeds.map((feed) => this.keys.streamIdempotency(feed, ''));
    // One pass over this prefix's idempotency keys for all the streams (a SCAN per stream reads the whole keyspace
    // each time), on every primary of a cluster.
    for await (const page of scanPrimaries(redis, `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}:*idempotency:*`)) {
      keys.push(...page.keys.filter((key) => idempotency.some((start) => key.startsWith(start))));
    }
    // One UNLINK per key: on a cluster the streams' keys lie in many slots.
    await Promise.all(keys.map((key) => redis.unlink(key)));
  }

  async close(): Promise<void> {
    this.monitor.disconnect();
    this.commands?.disconnect();
  }

  private commands: RedisClient | null = null;
  private readonly redisUrl: string;

  /** The monitor is in subscriber mode; stream reads go on a second connection. */
  private monitorlessClient(): RedisClient {
    this.commands ??= testRedisClient({ connectionName: `${this.prefix}:model-commands` }, this.redisUrl);
    return this.commands;
  }

  private onMessage(channel: string, message: string): void {
    const watched = this.channels.get(channel);
    if (watched === undefined) return;
    // A read publishes the user's read state alone: `@ <unread> <readUpTo> <version>`.
    if (message.startsWith('@ ') && !watched.topic) {
      this.inboxHeard.set(watched.stream, message.slice(2));
      return;
    }
    try {
      // Read from the JSON on (the prefix "<id> <type> " may change with the codec): it carries the id itself. A user's
      // entry carries the read state after it, on a line of its own (the JSON holds no raw newline).
      const start = message.indexOf('{');
      const end = message.indexOf('\n', start);
      if (end >= 0 && !watched.topic) this.inboxHeard.set(watched.stream, message.slice(end + 1));
      const entry = JSON.parse(message.slice(start, end < 0 ? undefined : end)) as { id: string; type: string; userId?: string; topic?: string; data: Record<string, unknown> };
      const id = entry.id;
      const owner = watched.topic ? entry.topic : entry.userId;
      if (typeof id !== 'string' || owner !== watched.stream) throw new Error(`no id, or a ${watched.topic ? 'topic' : 'userId'} other than the channel's`);
      const messageId = typeof entry.data?.messageId === 'string' ? entry.data.messageId : undefined;
      this.items(watched.stream).push({ id, type: entry.type, stream: owner, seq: seqOf(entry), messageId, seenAt: performance.now() });
    } catch (error) {
      this.garbled.push(`${channel}: ${(error as Error).message}: ${message.slice(0, 200)}`);
    }
  }
}
