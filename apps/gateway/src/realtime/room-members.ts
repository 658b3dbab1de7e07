import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { RedisConnections, RedisKeys } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** How often an instance says it is alive and looks for dead ones. */
export const INSTANCE_HEARTBEAT_MS = 5_000;
/** An instance silent for this long is dead: its room members are removed by the first live instance that notices. */
export const INSTANCE_TTL_MS = 15_000;
/** How long one instance may take to clear a dead one before another may try again. */
const REAP_LOCK_MS = 60_000;

/**
 * KEYS: this instance's sockets in the room, the room's members, the user's
 * presence grace key. ARGV: socket id, user id, the member cap.
 * Returns -1 full, 0 the socket was in already, 1 joined (the user had a
 * socket there), 2 joined as the user's first socket, 3 the same but back
 * within the grace period (never seen offline).
 */
const JOIN_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) > 1 then return 1 end
return 2 + redis.call('DEL', KEYS[3])
`;

/**
 * KEYS as for the join. ARGV: socket id, the departure's id, the grace key's TTL.
 * Only a socket this instance still holds counts down, so a leave that comes
 * after a reap (or twice) changes nothing. Returns 1 when it was the user's last
 * socket in the room: the grace key is set and names this departure.
 */
const LEAVE_SCRIPT = `
local user = redis.call('HGET', KEYS[1], ARGV[1])
if not user then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HINCRBY', KEYS[2], user, -1) > 0 then return 0 end
redis.call('HDEL', KEYS[2], user)
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** KEYS: the room's members, the grace key. ARGV: user id, departure. 1 when this departure's grace ended with the user still away. */
const GRACE_END_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
return redis.call('DEL', KEYS[2])
`;

/** KEYS: a dead instance's sockets in the room, the room's members. Returns the users it leaves with no socket there. */
const REAP_SCRIPT = `
local gone = {}
for _, user in ipairs(redis.call('HVALS', KEYS[1])) do
  local left = redis.call('HINCRBY', KEYS[2], user, -1)
  if left <= 0 then
    redis.call('HDEL', KEYS[2], user)
    if left == 0 then table.insert(gone, user) end
  end
end
redis.call('DEL', KEYS[1])
return gone
`;

type ScriptedRedis = RedisConnections['command'] & {
  rtgRoomJoin(numKeys: 3, ...args: string[]): Promise<number>;
  rtgRoomLeave(numKeys: 3, ...args: string[]): Promise<number>;
  rtgRoomGraceEnd(numKeys: 2, ...args: string[]): Promise<number>;
  rtgRoomReap(numKeys: 2, ...args: string[]): Promise<string[]>;
};

/** The answer of {@link RoomMembers.add}: refused, or counted (`online`: as the user's first socket there, to be announced). */
export type RoomAdmission = 'full' | 'again' | 'joined' | 'online' | 'back';

const JOIN_STATUS = { [-1]: 'full', 0: 'again', 1: 'joined', 2: 'online', 3: 'back' } as const;

/**
 * Who is in which room, on every instance, kept in Redis so that a join costs
 * the same few commands whatever the room's size (no adapter round trip to
 * every instance, no handshakes shipped through Redis):
 *
 * - `room-members:{room}` user id → sockets of the user in the room, all
 *   instances together: its fields are the `members` a join answers, and a
 *   count going 0 → 1 or 1 → 0 is a presence change, decided in the script.
 * - `room-sockets:{room}:<instance>` socket id → user id, per instance: makes
 *   every join and leave idempotent per socket, and is exactly what to
 *   subtract when the instance dies. Same slot as the members (and the
 *   presence grace keys), so each change is one atomic script.
 * - `instance-rooms:{<instance>}`: where that instance has sockets;
 *   `instance-alive:{<instance>}`: a key whose TTL the instance refreshes;
 *   `instances`: every instance that may hold members.
 *
 * An instance that dies without leaving (crash, kill -9, partition) leaves its
 * members behind for at most INSTANCE_TTL_MS plus one heartbeat: the first
 * live instance to see its alive key gone subtracts its sockets, room by
 * room. An instance that finds its own alive key gone (Redis lost it, or it
 * was silent too long and may have been cleared) takes a new id and writes
 * its sockets again, rather than guess what survived.
 */
@Injectable()
export class RoomMembers implements OnModuleInit {
  private readonly redis: ScriptedRedis;
  private id: string;
  private registered = false;

  constructor(
    connections: RedisConnections,
    private readonly keys: RedisKeys,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.redis = connections.command as ScriptedRedis;
    this.id = this.newId();
  }

  onModuleInit(): void {
    this.redis.defineCommand('rtgRoomJoin', { lua: JOIN_SCRIPT });
    this.redis.defineCommand('rtgRoomLeave', { lua: LEAVE_SCRIPT });
    this.redis.defineCommand('rtgRoomGraceEnd', { lua: GRACE_END_SCRIPT });
    this.redis.defineCommand('rtgRoomReap', { lua: REAP_SCRIPT });
  }

  /** This instance's current id in the keys above. */
  get instanceId(): string {
    return this.id;
  }

  /**
   * Puts a socket in a room's members, unless the room is at `maxMembers`
   * users and the socket's user is not among them. Both commands leave in the
   * same tick (the ledger first), so callers that loop see them in order.
   */
  async add(roomId: string, socketId: string, userId: string, maxMembers: number): Promise<RoomAdmission> {
    const keys = [this.keys.roomSockets(roomId, this.id), this.keys.roomMembers(roomId), this.keys.presenceGrace(roomId, userId)];
    const [, status] = await Promise.all([
      this.redis.sadd(this.keys.instanceRooms(this.id), roomId),
      this.redis.rtgRoomJoin(3, ...keys, socketId, userId, String(maxMembers)),
    ]);
    return JOIN_STATUS[status as keyof typeof JOIN_STATUS];
  }

  /** The distinct users in the room, on every instance. */
  async list(roomId: string): Promise<string[]> {
    return this.redis.hkeys(this.keys.roomMembers(roomId));
  }

  /** Takes a socket out of a room's members; true when it was the user's last there (the grace key now names `departure`). */
  async remove(roomId: string, socketId: string, userId: string, departure: string, graceMs: number): Promise<boolean> {
    const keys = [this.keys.roomSockets(roomId, this.id), this.keys.roomMembers(roomId), this.keys.presenceGrace(roomId, userId)];
    return (await this.redis.rtgRoomLeave(3, ...keys, socketId, departure, String(graceMs))) === 1;
  }

  /** This instance has no socket in the room any more: a crash need not look there. */
  async forgetRoom(roomId: string): Promise<void> {
    await this.redis.srem(this.keys.instanceRooms(this.id), roomId);
  }

  /** True when `departure`'s grace period ended with the user still out of the room (and ends it). */
  async endGrace(roomId: string, userId: string, departure: string): Promise<boolean> {
    return (await this.redis.rtgRoomGraceEnd(2, this.keys.roomMembers(roomId), this.keys.presenceGrace(roomId, userId), userId, departure)) === 1;
  }

  /**
   * Says this instance is alive. `renewed` when it had to take a new id: its
   * alive key was gone, so its members may have been cleared, and the caller
   * must add its sockets again.
   */
  async heartbeat(): Promise<'alive' | 'registered' | 'renewed'> {
    if (this.registered && (await this.redis.pexpire(this.keys.instanceAlive(this.id), INSTANCE_TTL_MS)) === 1) return 'alive';
    const renewed = this.registered;
    // The old id stays in `instances` without an alive key: it is cleared like any dead instance.
    if (renewed) this.id = this.newId();
    // Alive before listed: whoever finds an id in `instances` without its key may clear it.
    await this.redis.set(this.keys.instanceAlive(this.id), '1', 'PX', INSTANCE_TTL_MS);
    await this.redis.sadd(this.keys.instances(), this.id);
    this.registered = true;
    return renewed ? 'renewed' : 'registered';
  }

  /** Clears every dead instance's members; returns, per room, the users that left it with no socket there. */
  async reapDead(): Promise<Array<{ roomId: string; gone: string[] }>> {
    const reaped: Array<{ roomId: string; gone: string[] }> = [];
    for (const instanceId of await this.redis.smembers(this.keys.instances())) {
      if (instanceId === this.id || (await this.redis.exists(this.keys.instanceAlive(instanceId))) === 1) continue;
      // One reaper per dead instance; the lock expires, so a reaper that dies halfway is taken over (the script is idempotent).
      if ((await this.redis.set(this.keys.instanceReaping(instanceId), this.id, 'PX', REAP_LOCK_MS, 'NX')) !== 'OK') continue;
      const ledger = this.keys.instanceRooms(instanceId);
      for (const roomId of await this.redis.smembers(ledger)) {
        const gone = await this.redis.rtgRoomReap(2, this.keys.roomSockets(roomId, instanceId), this.keys.roomMembers(roomId));
        await this.redis.srem(ledger, roomId);
        if (gone.length > 0) reaped.push({ roomId, gone });
      }
      await this.redis.srem(this.keys.instances(), instanceId);
      await this.redis.del(ledger, this.keys.instanceReaping(instanceId));
    }
    return reaped;
  }

  /** On shutdown: the others clear what is left of this instance's members at their next heartbeat. */
  async retire(): Promise<void> {
    if (this.registered) await this.redis.del(this.keys.instanceAlive(this.id));
  }

  private newId(): string {
    return `${this.config.instanceId ?? 'gateway'}.${randomBytes(6).toString('base64url')}`;
  }
}
