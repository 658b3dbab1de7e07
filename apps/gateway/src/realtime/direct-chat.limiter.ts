import { Injectable } from '@nestjs/common';
import { type RateBucket, RateLimiter, RedisKeys } from '@app/notifications';

/**
 * Direct chat limits, on top of each socket's flood limit, kept in Redis so
 * they hold across a user's sockets and every instance (docs/api.md, Limits).
 * Each is a bucket: the whole limit at once, refilled evenly over its window.
 *
 * - sender: what one user may send to anyone. 30 messages in 10 s is more than
 *   anyone types; 64 KiB in 10 s is 16 messages of 4,000 ASCII characters, or
 *   4 of 4,000 emoji (counted as stored: UTF-8). It bounds what one account can
 *   make Redis hold: at most ~6.5 KB/s, kept a day (HISTORY_TTL_MS).
 * - recipient: what one user may receive from everyone, 120 a minute: 2 a
 *   second from a crowd, and a flood needs over 8 minutes to push 1,000
 *   job-matches out of a history.
 * - pair: what one sender may send one recipient, 30 a minute. Without it, one
 *   user at the sender rate (180 a minute) would hold the recipient's budget
 *   alone and no one else's message would get through; with it, that takes
 *   four accounts acting together.
 */
export const DIRECT_CHAT_LIMITS = {
  sender: { messages: 30, bytes: 64 * 1024, windowMs: 10_000 },
  recipient: { messages: 120, windowMs: 60_000 },
  pair: { messages: 30, windowMs: 60_000 },
} as const;

/**
 * Builds the buckets of one direct chat. The sender's are in the sender's hash
 * slot and checked on their own; the recipient's are in the recipient's slot
 * and taken by the append that stores the message (see NotificationService
 * `publishWithin`), so no script spans two slots, a direct chat costs one
 * round trip more than before, and only stored messages count against a
 * recipient.
 */
@Injectable()
export class DirectChatLimiter {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly keys: RedisKeys,
  ) {}

  /** Takes one message of `content` from the sender's budget; false when over it. */
  takeSender(senderId: string, content: string): Promise<boolean> {
    const { sender } = DIRECT_CHAT_LIMITS;
    return this.limiter.take([
      { key: this.keys.directChatSent(senderId, 'messages'), limit: sender.messages, windowMs: sender.windowMs, cost: 1 },
      { key: this.keys.directChatSent(senderId, 'bytes'), limit: sender.bytes, windowMs: sender.windowMs, cost: Buffer.byteLength(content, 'utf8') },
    ]);
  }

  /** The recipient's buckets for one message from `senderId`, for `publishWithin`. */
  recipientBuckets(senderId: string, recipientId: string): RateBucket[] {
    const { recipient, pair } = DIRECT_CHAT_LIMITS;
    return [
      { key: this.keys.directChatReceived(recipientId), limit: recipient.messages, windowMs: recipient.windowMs, cost: 1 },
      { key: this.keys.directChatPair(senderId, recipientId), limit: pair.messages, windowMs: pair.windowMs, cost: 1 },
    ];
  }
}
