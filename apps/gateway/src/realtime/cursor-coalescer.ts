/** At most this many cursor updates per second fan out from one sender. */
export const CURSOR_MAX_PER_SECOND = 30;
const INTERVAL_MS = Math.ceil(1000 / CURSOR_MAX_PER_SECOND);

/**
 * A move kept unchecked until it is about to go out (the gateway defers a move
 * over the socket's rate limit this way). Neither callback may throw: they run
 * on the coalescer's timer.
 */
export interface DeferredMove<T> {
  /** Checks the move now and answers its sender; the move to send, or null if it is refused. */
  resolve(): T | null;
  /** A newer move replaced it, or its room was forgotten, before it was checked. */
  drop(): void;
}

interface RoomState<T> {
  sentAt: number;
  latest: T | null;
  deferred: DeferredMove<T> | null;
  timer: NodeJS.Timeout | null;
  /** Sends the last position again, reliably, once the sender has been still for an interval. */
  settle: NodeJS.Timeout | null;
}

/**
 * How a move leaves: `reliable` false for the stream of a moving cursor
 * (volatile: Socket.IO drops it for a member whose transport is busy
 * writing), true for the copy of the last position once the cursor stops,
 * which every member receives.
 */
export type SendMove<T> = (roomId: string, move: T, reliable: boolean) => void;

/**
 * Coalesces one sender's cursor moves per room: the first goes out at once,
 * later ones within the interval replace each other and only the latest goes
 * out when the interval ends. A fast mouse therefore costs the room at most
 * 30 messages a second. The moves go out volatile, which a member whose
 * websocket is still writing misses, so an interval after the last one the
 * same position goes out once more, reliably: the last position is never lost,
 * and a cursor that keeps moving costs no reliable message at all.
 *
 * A room also holds at most one deferred move, newer than `latest`, which is
 * checked only at the room's next slot: a flood of deferred moves costs one
 * slot each and at most one check per room per interval.
 */
export class CursorCoalescer<T> {
  private readonly rooms = new Map<string, RoomState<T>>();

  constructor(private readonly send: SendMove<T>) {}

  move(roomId: string, move: T, now = Date.now()): void {
    const room = this.room(roomId);
    if (room.timer === null && now - room.sentAt >= INTERVAL_MS) {
      this.sent(roomId, room, move, now);
      return;
    }
    room.latest = move;
    if (room.timer === null) this.schedule(roomId, room, INTERVAL_MS - (now - room.sentAt));
  }

  /**
   * Keeps `move` as the room's deferred move, in place of an older one (dropped),
   * and checks it at the room's next slot. Never at once, even in a free slot: a
   * move sent before it may still be on its way to {@link move}, and the timer
   * runs after it, so the newer position is the one that stays.
   */
  defer(roomId: string, move: DeferredMove<T>, now = Date.now()): void {
    const room = this.room(roomId);
    room.deferred?.drop();
    room.deferred = move;
    if (room.timer === null) this.schedule(roomId, room, Math.max(0, INTERVAL_MS - (now - room.sentAt)));
  }

  /** Drops the room's deferred move: a newer one is on its way to {@link move}. */
  supersede(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room?.deferred) return;
    room.deferred.drop();
    room.deferred = null;
  }

  /** Drops a room's pending moves (the sender left it). */
  forget(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    if (room.timer) clearTimeout(room.timer);
    if (room.settle) clearTimeout(room.settle);
    this.rooms.delete(roomId);
    room.deferred?.drop();
  }

  clear(): void {
    for (const roomId of [...this.rooms.keys()]) this.forget(roomId);
  }

  private room(roomId: string): RoomState<T> {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { sentAt: 0, latest: null, deferred: null, timer: null, settle: null };
      this.rooms.set(roomId, room);
    }
    return room;
  }

  private schedule(roomId: string, room: RoomState<T>, delayMs: number): void {
    room.timer = setTimeout(() => {
      room.timer = null;
      let latest = room.latest;
      room.latest = null;
      const deferred = room.deferred;
      room.deferred = null;
      // The deferred move is the newer one; if it is refused, the latest accepted one still goes out.
      if (deferred !== null) latest = deferred.resolve() ?? latest;
      if (latest === null) {
        // A refused check still spends the slot, so checks stay at one per interval.
        if (deferred !== null) room.sentAt = Date.now();
        return;
      }
      this.sent(roomId, room, latest, Date.now());
    }, delayMs);
  }

  private sent(roomId: string, room: RoomState<T>, move: T, now: number): void {
    room.sentAt = now;
    this.send(roomId, move, false);
    if (room.settle) clearTimeout(room.settle);
    room.settle = setTimeout(() => {
      room.settle = null;
      // A newer move is on its way: its own copy follows it.
      if (room.timer === null) this.send(roomId, move, true);
    }, INTERVAL_MS);
  }
}
