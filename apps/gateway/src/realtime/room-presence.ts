import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { SERVER_EVENTS } from '@app/notifications';
import type { RealtimeServer as Server } from './realtime.dto';
import { RoomMembers } from './room-members';
import { chatRoom } from './rooms';

/** How long a user who left a room counts as still there, so a reconnect does not flap their presence. */
export const PRESENCE_GRACE_MS = 5_000;
/** The grace key outlives the timer that reads it, so a slow timer still finds it. */
export const PRESENCE_GRACE_KEY_MS = PRESENCE_GRACE_MS * 3;

/**
 * `presence` events for rooms, across instances, sent to the room's members
 * only. A user comes online in a room when their first socket joins it (the
 * join script says so from the room's members in Redis) and goes offline once
 * their last socket has been gone for the grace period. The grace is a Redis
 * key, so a socket that reconnects to another instance and rejoins cancels it
 * there.
 */
@Injectable()
export class RoomPresence implements OnApplicationShutdown {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly members: RoomMembers) {}

  online(server: Server, roomId: string, userId: string): void {
    server.to(chatRoom(roomId)).emit(SERVER_EVENTS.presence, { roomId, userId, online: true });
  }

  offline(server: Server, roomId: string, userId: string): void {
    server.to(chatRoom(roomId)).emit(SERVER_EVENTS.presence, { roomId, userId, online: false });
  }

  /** The user's last socket left `roomId` and the grace key names `departure`: offline when it ends, unless they are back. */
  graceStarted(server: Server, roomId: string, userId: string, departure: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // Whoever ends the grace announces: a rejoin anywhere ends it first, and nothing is said.
      this.members.endGrace(roomId, userId, departure).then(
        (ended) => ended && this.offline(server, roomId, userId),
        () => undefined,
      );
    }, PRESENCE_GRACE_MS);
    // A departure during shutdown must not hold the process open: the others clear this instance's members anyway.
    timer.unref();
    this.timers.add(timer);
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
