import Redis from 'ioredis';
import type { Route } from './fleet';
import { RedisKeys } from '../../libs/notifications/src/redis/redis-keys';

/*
 * The accepted sequence of each user, learnt apart from the gateway's
 * delivery path: a monitor connection SUBSCRIBEs to every user's channel
 * before the schedule's first publish. The append script stores and publishes
 * in one step, so the channel carries each stored notification once, in
 * stream order: "<id> <type> <notification JSON>". It is cross-checked with
 * the answers to the publishes (the ledger) and with XRANGE of the stream.
 */

export interface TruthItem {
  id: string;
  type: string;
  userId: string;
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
  user: string;
  via: Via;
  /** performance.now() when the request left: anything stored for it was stored after. */
  sentAt: number;
  /** 'accepted' with the id answered; 'refused' with the status; 'unknown' (no answer, e.g. the gateway died). */
  outcome: { kind: 'pending' } | { kind: 'accepted'; id: string } | { kind: 'refused'; status: number | string; body?: string } | { kind: 'unknown'; error: string };
  idempotencyKey?: string;
  /** For a re-publish: the seq of the first publish with this key. */
  sameAs?: number;
  jobId?: string;
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
  private readonly monitor: Redis;
  private readonly keys: RedisKeys;
  private readonly byUser = new Map<string, TruthItem[]>();
  private readonly channels = new Map<string, string>();
  /** Every publish of the schedule, in the order it was sent; a re-publish repeats its first's seq. */
  readonly sent: Sent[] = [];
  private readonly firstSentAt = new Map<number, number>();
  /** Messages the monitor could not read: each is a finding. */
  readonly garbled: string[] = [];

  constructor(
    redisUrl: string,
    private readonly prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
    this.monitor = new Redis(redisUrl, { connectionName: `${prefix}:model-monitor` });
    this.monitor.on('smessage', (channel: string, message: string) => this.onMessage(channel, message));
  }

  /** Subscribes to the users' channels; resolves once Redis confirmed, i.e. before any publish of theirs. */
  async watch(users: string[]): Promise<void> {
    for (const user of users) {
      this.byUser.set(user, []);
      this.channels.set(this.keys.userChannel(user), user);
    }
    await this.monitor.ssubscribe(...users.map((user) => this.keys.userChannel(user)));
  }

  async unwatch(): Promise<void> {
    const channels = [...this.channels.keys()];
    this.channels.clear();
    this.byUser.clear();
    this.sent.length = 0;
    this.firstSentAt.clear();
    this.garbled.length = 0;
    if (channels.length > 0) await this.monitor.sunsubscribe(...channels);
  }

  items(user: string): TruthItem[] {
    return this.byUser.get(user) ?? [];
  }

  indexOf(user: string, id: string): number {
    const items = this.items(user);
    for (let i = items.length - 1; i >= 0; i--) if (items[i].id === id) return i;
    return -1;
  }

  /** How many of the user's notifications were certainly stored before `t` (the monitor had them). */
  storedBefore(user: string, t: number): number {
    return this.items(user).filter((item) => item.seenAt < t).length;
  }

  /** How many of the user's notifications may have been stored by `t` (their publish had been sent). */
  mayBeStoredBy(user: string, t: number): number {
    return this.items(user).filter((item) => (this.sentAtOf(item) ?? -Infinity) < t).length;
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

  /** The user's retained stream as Redis holds it: ids, oldest first. */
  async stream(user: string): Promise<string[]> {
    const entries = await this.monitorlessClient().xrange(this.keys.userStream(user), '-', '+');
    return entries.map(([id]) => id);
  }

  /** Deletes the users' keys (history, trim watermark, idempotency keys) so a long run does not fill Redis. */
  async forget(users: string[]): Promise<void> {
    const redis = this.monitorlessClient();
    for (const user of users) {
      const keys = [this.keys.userStream(user), this.keys.trimmedWatermark(user)];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${this.keys.idempotency(user, '').replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== '0');
      await redis.unlink(...keys);
    }
  }

  async close(): Promise<void> {
    this.monitor.disconnect();
    this.commands?.disconnect();
  }

  private commands: Redis | null = null;

  /** The monitor is in subscriber mode; stream reads go on a second connection. */
  private monitorlessClient(): Redis {
    this.commands ??= new Redis(this.monitor.options);
    return this.commands;
  }

  private onMessage(channel: string, message: string): void {
    const user = this.channels.get(channel);
    if (user === undefined) return;
    try {
      // Read from the JSON on (the prefix "<id> <type> " may change with the codec): it carries the id itself.
      const notification = JSON.parse(message.slice(message.indexOf('{'))) as { id: string; type: string; userId: string; data: Record<string, unknown> };
      const id = notification.id;
      if (typeof id !== 'string' || notification.userId !== user) throw new Error('no id, or a userId other than the channel\'s');
      const messageId = typeof notification.data?.messageId === 'string' ? notification.data.messageId : undefined;
      this.items(user).push({ id, type: notification.type, userId: notification.userId, seq: seqOf(notification), messageId, seenAt: performance.now() });
    } catch (error) {
      this.garbled.push(`${channel}: ${(error as Error).message}: ${message.slice(0, 200)}`);
    }
  }
}
