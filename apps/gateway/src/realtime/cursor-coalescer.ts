/** At most this many cursor updates per second fan out from one sender. */
export const CURSOR_MAX_PER_SECOND = 30;
const INTERVAL_MS = Math.ceil(1000 / CURSOR_MAX_PER_SECOND);

/**
 * Coalesces one sender's cursor moves per room: the first goes out at once,
 * later ones within the interval replace each other and only the latest goes
 * out when the interval ends. A fast mouse therefore costs the room at most
 * 30 messages a second, and the last position is never lost.
 */
export class CursorCoalescer<T> {
  private readonly rooms = new Map<string, { sentAt: number; latest: T | null; timer: NodeJS.Timeout | null }>();

  constructor(private readonly send: (roomId: string, move: T) => void) {}

  move(roomId: string, move: T, now = Date.now()): void {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { sentAt: 0, latest: null, timer: null };
      this.rooms.set(roomId, room);
    }
    if (room.timer === null && now - room.sentAt >= INTERVAL_MS) {
      room.sentAt = now;
      this.send(roomId, move);
      return;
    }
    room.latest = move;
    if (room.timer === null) {
      const entry = room;
      entry.timer = setTimeout(() => {
        entry.timer = null;
        if (entry.latest === null) return;
        entry.sentAt = Date.now();
        const latest = entry.latest;
        entry.latest = null;
        this.send(roomId, latest);
      }, INTERVAL_MS - (now - room.sentAt));
    }
  }

  /** Drops a room's pending move (the sender left it). */
  forget(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (room?.timer) clearTimeout(room.timer);
    this.rooms.delete(roomId);
  }

  clear(): void {
    for (const roomId of [...this.rooms.keys()]) this.forget(roomId);
  }
}
