/*
 * Socket.IO room names. Personal rooms carry a ':' that client room ids
 * (^[A-Za-z0-9_-]{1,64}$) cannot, so no client can join another user's room.
 */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** One entry of a token's `rooms` claim: a room id, or a prefix of one ending in `*` (`*` alone: every room). */
export const ROOM_GRANT_PATTERN = /^(?:[A-Za-z0-9_-]{1,64}|[A-Za-z0-9_-]{0,63}\*)$/;

/**
 * What one socket and one room may hold. A join answers the room's members
 * and announces itself to all of them, so a room's size is what a join costs
 * in bytes; the member cap bounds it. Over a cap the join is refused
 * (`too_many_rooms`, `room_full`), never trimmed.
 */
export const ROOM_LIMITS = {
  roomsPerSocket: 64,
  membersPerRoom: 10_000,
} as const;

/** Every socket of a user, on every instance. */
export function personalRoom(userId: string): string {
  return `user:${userId}`;
}

/** A chat room that clients join by id. */
export function chatRoom(roomId: string): string {
  return `room:${roomId}`;
}

/** The room id of a Socket.IO room built by {@link chatRoom}, or null. */
export function roomIdOf(room: string): string | null {
  return room.startsWith('room:') ? room.slice('room:'.length) : null;
}

/** Whether a `rooms` claim (already checked against {@link ROOM_GRANT_PATTERN}) lets its holder join `roomId`. */
export function roomGranted(grants: readonly string[], roomId: string): boolean {
  return grants.some((grant) => (grant.endsWith('*') ? roomId.startsWith(grant.slice(0, -1)) : grant === roomId));
}
