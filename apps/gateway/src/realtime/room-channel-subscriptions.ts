import { Injectable } from '@nestjs/common';
import type { RedisClient } from '@app/notifications';

/**
 * On a cluster the sharded Socket.IO adapter has a channel per room, which it
 * SSUBSCRIBEs when the room's first local socket joins, without waiting for
 * Redis to answer. A member elsewhere who sends right after this join's ack
 * would publish into a subscription not yet in effect, and volatile events
 * (typing, cursor-move) were lost that way. This tracks those SSUBSCRIBEs, so
 * that a join answers only once the room's channel delivers here.
 *
 * On one server and Sentinel the classic adapter subscribes one pattern at
 * start, nothing per room, and nothing is tracked.
 */
@Injectable()
export class RoomChannelSubscriptions {
  /** The latest SSUBSCRIBE of each channel, until it is answered. */
  private readonly pending = new Map<string, Promise<unknown>>();
  private namespaceChannel: string | null = null;

  /**
   * Wraps the adapter's subscriber so that its SSUBSCRIBEs are tracked.
   * `channelPrefix` is the adapter's: its room channels are
   * `<prefix>#<namespace>#<room>#` (socket.io's sharded-adapter.js, `dynamicChannel`).
   */
  track(subscriber: RedisClient, channelPrefix: string): void {
    this.namespaceChannel = `${channelPrefix}#/#`;
    const ssubscribe = subscriber.ssubscribe.bind(subscriber) as (...channels: string[]) => Promise<unknown>;
    (subscriber as unknown as { ssubscribe: (...channels: string[]) => Promise<unknown> }).ssubscribe = (...channels: string[]) => {
      const done = ssubscribe(...channels);
      // The adapter does not await it: a failure (Redis away) is the subscriber's to retry on reconnect.
      const settled = done.catch(() => undefined);
      for (const channel of channels) {
        this.pending.set(channel, settled);
        void settled.then(() => this.pending.get(channel) === settled && this.pending.delete(channel));
      }
      return done;
    };
  }

  /** Resolves once the SSUBSCRIBE of the room's channel (if one is on its way) has been answered. */
  async subscribed(room: string): Promise<void> {
    if (this.namespaceChannel === null) return;
    await this.pending.get(`${this.namespaceChannel}${room}#`);
  }
}
