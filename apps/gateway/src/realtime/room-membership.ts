import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisConnections } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { LiveConnections } from '../connections/live-connections';
import type { AckOf, AckRefusal, RealtimeServer as Server, RealtimeSocket as Socket } from './realtime.dto';
import { RoomChannelSubscriptions } from './room-channel-subscriptions';
import { INSTANCE_HEARTBEAT_MS, RoomMembers } from './room-members';
import { PRESENCE_GRACE_KEY_MS, RoomPresence } from './room-presence';
import { chatRoom, ROOM_LIMITS, roomGranted } from './rooms';
import type { SocketSession } from './socket-session';

const FORBIDDEN: AckRefusal = { ok: false, error: 'forbidden' };
const NOT_A_MEMBER: AckRefusal = { ok: false, error: 'not_a_member' };
const TOO_MANY_ROOMS: AckRefusal = { ok: false, error: 'too_many_rooms' };
const ROOM_FULL: AckRefusal = { ok: false, error: 'room_full' };
const NOT_CONNECTED: AckRefusal = { ok: false, error: 'not_connected' };

/**
 * What `room:join` and `room:leave` do, and what happens to a socket's rooms
 * when it disconnects or its grant changes: access (ROOM_ACCESS and the
 * token's `rooms` claim), the caps, the members in Redis ({@link RoomMembers})
 * and presence. The gateway's handlers validate and call in here.
 *
 * A socket receives a room's traffic only while it is in the Socket.IO room,
 * which it enters after Redis has counted it, and leaves before Redis forgets
 * it: nothing reaches a socket that was refused or has left.
 */
@Injectable()
export class RoomMembership implements BeforeApplicationShutdown {
  private readonly log = new Logger(RoomMembership.name);
  private server: Server | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private lastError = '';
  /** Rooms where a socket is, or may be, counted in Redis (a join on its way counts): its cap, and what its disconnect releases. */
  private readonly held = new WeakMap<Socket, Set<string>>();
  /** Sockets of this instance per held room: at zero the room leaves the instance's ledger. */
  private readonly heldPerRoom = new Map<string, number>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly members: RoomMembers,
    private readonly presence: RoomPresence,
    private readonly redis: RedisConnections,
    private readonly live: LiveConnections,
    private readonly roomChannels: RoomChannelSubscriptions,
  ) {}

  /** Starts the liveness heartbeat; presence goes out through `server`. */
  attach(server: Server): void {
    this.server = server;
    const beat = () => {
      // A heartbeat slowed by a Redis outage is not stacked with the next.
      this.beating ??= this.beat().finally(() => (this.beating = null));
    };
    beat();
    this.heartbeat = setInterval(beat, INSTANCE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Releases the socket's rooms when it disconnects. */
  watch(socket: Socket, session: SocketSession): void {
    socket.once('disconnect', () => {
      // While draining, members stay until the others clear this instance once it is gone; by then a
      // user who reconnected elsewhere is counted there, so their presence does not flap.
      if (this.live.isDraining) return;
      for (const roomId of [...this.roomsHeld(socket)]) void this.release(socket, roomId, session.user.id).catch(() => undefined);
    });
  }

  async join(socket: Socket, session: SocketSession, roomId: string): Promise<AckOf<'room:join'>> {
    const userId = session.user.id;
    if (this.config.roomAccess === 'claim' && !roomGranted(session.user.rooms, roomId)) return FORBIDDEN;
    const held = this.roomsHeld(socket);
    const again = held.has(roomId);
    if (!again && held.size >= ROOM_LIMITS.roomsPerSocket) return TOO_MANY_ROOMS;
    this.redis.assertConnected();
    if (!again) this.hold(socket, roomId);
    // Counted (or refused) before the socket hears anything of the room, so a refused one never does.
    const admission = await this.members.add(roomId, socket.id, userId, ROOM_LIMITS.membersPerRoom);
    if (admission === 'full') {
      this.unhold(socket, roomId);
      return ROOM_FULL;
    }
    if (socket.disconnected) {
      // Its disconnect ran while Redis answered; joining now would leave it in the room for good.
      await this.release(socket, roomId, userId);
      return NOT_CONNECTED;
    }
    await socket.join(chatRoom(roomId));
    await this.roomChannels.subscribed(chatRoom(roomId));
    if (admission === 'online') this.presence.online(this.server!, roomId, userId);
    // Read once the socket hears the room: whoever joins or leaves after this read, it hears of; before, it is in the list.
    return { ok: true, members: await this.members.list(roomId) };
  }

  async leave(socket: Socket, session: SocketSession, roomId: string): Promise<AckOf<'room:leave'>> {
    if (!socket.rooms.has(chatRoom(roomId))) return NOT_A_MEMBER;
    this.redis.assertConnected();
    await socket.leave(chatRoom(roomId));
    session.cursors.forget(roomId);
    await this.release(socket, roomId, session.user.id);
    return { ok: true };
  }

  /**
   * After `auth:refresh`: under ROOM_ACCESS=claim the new token's grant is the
   * one that counts, so the socket leaves every room it no longer grants (as
   * with `room:leave`: presence after the grace period). Returns those rooms.
   */
  async regranted(socket: Socket, session: SocketSession): Promise<string[]> {
    if (this.config.roomAccess !== 'claim') return [];
    const revoked = [...this.roomsHeld(socket)].filter((roomId) => socket.rooms.has(chatRoom(roomId)) && !roomGranted(session.user.rooms, roomId));
    // Out of the rooms at once, Redis or not; a count Redis cannot drop now is dropped at the disconnect.
    for (const roomId of revoked) {
      await socket.leave(chatRoom(roomId));
      session.cursors.forget(roomId);
    }
    await Promise.all(revoked.map((roomId) => this.release(socket, roomId, session.user.id).catch(() => undefined)));
    return revoked;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.beating;
    await this.members.retire().catch(() => undefined);
  }

  private async release(socket: Socket, roomId: string, userId: string): Promise<void> {
    const departure = randomUUID();
    const last = await this.members.remove(roomId, socket.id, userId, departure, PRESENCE_GRACE_KEY_MS);
    this.unhold(socket, roomId);
    if (last) this.presence.graceStarted(this.server!, roomId, userId, departure);
  }

  private async beat(): Promise<void> {
    const server = this.server!;
    try {
      if ((await this.members.heartbeat()) === 'renewed') this.rewrite(server);
      for (const { roomId, gone } of await this.members.reapDead()) {
        // Gone for longer than the grace period already: no grace of their own.
        for (const userId of gone) this.presence.offline(server, roomId, userId);
      }
      if (this.lastError) this.log.log('room membership heartbeat: back');
      this.lastError = '';
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastError) this.log.warn(`room membership heartbeat failed: ${message}`);
      this.lastError = message;
    }
  }

  /** Under a new instance id, every socket of this instance is counted again in every room it holds. */
  private rewrite(server: Server): void {
    this.log.warn(`this instance was silent for over its liveness TTL: counting its room members again as ${this.members.instanceId}`);
    for (const socket of server.sockets.sockets.values()) {
      const userId = (socket.data as { user?: { id: string } }).user?.id;
      if (userId === undefined) continue;
      for (const roomId of this.roomsHeld(socket)) {
        // No cap: these sockets are members already.
        this.members.add(roomId, socket.id, userId, Number.MAX_SAFE_INTEGER).then(
          (admission) => admission === 'online' && this.presence.online(server, roomId, userId),
          () => undefined,
        );
      }
    }
  }

  private roomsHeld(socket: Socket): Set<string> {
    let rooms = this.held.get(socket);
    if (rooms === undefined) this.held.set(socket, (rooms = new Set()));
    return rooms;
  }

  private hold(socket: Socket, roomId: string): void {
    this.roomsHeld(socket).add(roomId);
    this.heldPerRoom.set(roomId, (this.heldPerRoom.get(roomId) ?? 0) + 1);
  }

  private unhold(socket: Socket, roomId: string): void {
    if (!this.roomsHeld(socket).delete(roomId)) return;
    const left = (this.heldPerRoom.get(roomId) ?? 1) - 1;
    if (left > 0) return void this.heldPerRoom.set(roomId, left);
    this.heldPerRoom.delete(roomId);
    // Sent after the leave that emptied it, and before any later join's SADD: the ledger never misses a room with sockets.
    void this.members.forgetRoom(roomId).catch(() => undefined);
  }
}
