/*
 * Socket.IO room names. Personal rooms carry a ':' that client room ids
 * (^[A-Za-z0-9_-]{1,64}$) cannot, so no client can join another user's room.
 */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Every socket of a user, on every instance. */
export function personalRoom(userId: string): string {
  return `user:${userId}`;
}

/** A chat room that clients join by id. */
export function chatRoom(roomId: string): string {
  return `room:${roomId}`;
}
