import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Server } from 'socket.io';
import { RedisConnections, RedisKeys } from '@app/notifications';
import { chatRoom } from './rooms';

/** How long a user who left a room counts as still there, so a reconnect does not flap their presence. */
export const PRESENCE_GRACE_MS = 5_000;

const DELETE_IF_EQUAL = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type SocketLike = { id: string; data: { user?: { id: string } } };

/**
 * `presence` events for rooms, across instances. A user comes online in a
 * room when their first socket joins it, and goes offline once their last
 * socket has been gone for the grace period. The grace is a Redis key, so a
 * socket that reconnects to another instance and rejoins cancels it there.
 */
@Injectable()
export class RoomPresence implements OnApplicationShutdown {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly redis: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  /** A socket joined `roomId`; `members` are the room's sockets on every instance, the new one included. */
  async joined(server: Server, roomId: string, userId: string, socketId: string, members: SocketLike[]): Promise<void> {
    if (members.some((member) => member.id !== socketId && member.data.user?.id === userId)) return;
    // Back within the grace period: they never went offline, so nothing to announce.
    const wasInGrace = (await this.redis.command.del(this.keys.presenceGrace(roomId, userId))) === 1;
    if (!wasInGrace) server.to(chatRoom(roomId)).emit('presence', { roomId, userId, online: true });
  }

  /** A socket of `userId` left `roomId` (by leaving or disconnecting). */
  async left(server: Server, roomId: string, userId: string): Promise<void> {
    const members = await server.in(chatRoom(roomId)).fetchSockets();
    if (members.some((member) => (member.data as SocketLike['data']).user?.id === userId)) return;
    const grace = this.keys.presenceGrace(roomId, userId);
    // The value names this departure: an earlier one's timer must not end a later grace period.
    const departure = randomUUID();
    await this.redis.command.set(grace, departure, 'PX', PRESENCE_GRACE_MS * 3);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.expire(server, roomId, userId, grace, departure).catch(() => undefined);
    }, PRESENCE_GRACE_MS);
    this.timers.add(timer);
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async expire(server: Server, roomId: string, userId: string, grace: string, departure: string): Promise<void> {
    const members = await server.in(chatRoom(roomId)).fetchSockets();
    if (members.some((member) => (member.data as SocketLike['data']).user?.id === userId)) return;
    // Whoever deletes the grace key announces: a rejoin elsewhere deletes it first and nothing is said.
    const deleted = await this.redis.command.eval(DELETE_IF_EQUAL, 1, grace, departure);
    if (deleted === 1) server.to(chatRoom(roomId)).emit('presence', { roomId, userId, online: false });
  }
}
