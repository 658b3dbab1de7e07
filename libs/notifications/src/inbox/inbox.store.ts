import { Injectable, OnModuleInit } from '@nestjs/common';
import type { FeedStream } from '../feed-stream';
import { RedisConnections } from '../redis/redis-connections';
import { RedisKeys } from '../redis/redis-keys';
import { type InboxState, inboxStateOf, type MarkReadRequest } from './inbox-state';
import { INBOX_STATE_SCRIPT, MARK_READ_SCRIPT } from './inbox.scripts';

type StateReply = [number, string, string];

type ScriptedRedis = RedisConnections['command'] & {
  rtgMarkRead(numKeys: number, ...args: string[]): Promise<StateReply>;
  rtgInboxState(numKeys: number, unread: string, state: string): Promise<StateReply>;
};

/**
 * Each user's read state, kept beside their history (inbox.scripts.ts). The
 * append script adds every new notification as unread; this marks them read
 * and reads the state. Ids come checked from the edge (canonical ids); one
 * that is not the user's changes nothing, and says nothing about whose it is.
 */
@Injectable()
export class InboxStore implements OnModuleInit {
  private readonly redis: ScriptedRedis;

  constructor(
    connections: RedisConnections,
    private readonly keys: RedisKeys,
  ) {
    this.redis = connections.command as ScriptedRedis;
  }

  onModuleInit(): void {
    this.redis.defineCommand('rtgMarkRead', { lua: MARK_READ_SCRIPT });
    this.redis.defineCommand('rtgInboxState', { lua: INBOX_STATE_SCRIPT });
  }

  /** Marks the user's notifications read; every connection of the user hears the new state. */
  async markRead(userId: string, request: MarkReadRequest): Promise<InboxState> {
    const feed = this.keys.userFeed(userId);
    const { unread, state } = inboxKeys(feed);
    const what = 'ids' in request ? ['ids', ...request.ids] : ['upTo', request.upTo];
    const [count, readUpTo, version] = await this.redis.rtgMarkRead(3, feed.history, unread, state, feed.channel, ...what);
    return inboxStateOf(count, readUpTo, version);
  }

  async state(userId: string): Promise<InboxState> {
    return this.stateOf(this.keys.userFeed(userId));
  }

  /** The read state of a user's feed (a feed that lost live messages reads it again). */
  async stateOf(feed: FeedStream): Promise<InboxState> {
    const { unread, state } = inboxKeys(feed);
    const [count, readUpTo, version] = await this.redis.rtgInboxState(2, unread, state);
    return inboxStateOf(count, readUpTo, version);
  }
}

function inboxKeys(feed: FeedStream): NonNullable<FeedStream['inbox']> {
  if (!feed.inbox) throw new Error(`${feed.kind} ${feed.name} has no read state`);
  return feed.inbox;
}
