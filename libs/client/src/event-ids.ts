/*
 * Notification ids are Redis stream ids, `<ms>-<seq>`, strictly increasing per
 * user. The server's helpers live in libs/notifications next to ioredis, so the
 * client keeps these few lines of its own rather than pull server code into a
 * browser bundle.
 */

const ID = /^(\d{1,20})(?:-(\d{1,20}))?$/;

/** The canonical form of an id (`"0"` → `"0-0"`, no leading zeros); null if it is not one. */
export function normalizeEventId(value: string): string | null {
  const match = ID.exec(value.trim());
  if (!match) return null;
  return `${BigInt(match[1])}-${BigInt(match[2] ?? '0')}`;
}

/** Orders two canonical ids: negative, zero or positive, like a sort comparator. */
export function compareEventIds(a: string, b: string): number {
  const [msA, seqA] = a.split('-');
  const [msB, seqB] = b.split('-');
  // Canonical numbers have no leading zeros: a longer one is bigger, equal lengths order as text.
  const byNumber = (x: string, y: string) => (x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0);
  return byNumber(msA, msB) || byNumber(seqA ?? '0', seqB ?? '0');
}

/**
 * Where the client stands in the user's notification stream: the id of the last
 * notification it delivered. Every transport resumes after it, and anything at or
 * before it is a copy (another transport, a replay, another tab) and is dropped.
 * That is exactly-once, in order: each transport delivers a gapless, increasing run
 * from a start at or before this position, so the first copy of each id wins.
 */
export class ResumePosition {
  private last: string | null;

  constructor(initial?: string | null) {
    this.last = initial ? normalizeEventId(initial) : null;
    if (initial && this.last === null) throw new Error(`lastEventId must be a notification id like 1732190000000-0, got ${JSON.stringify(initial)}`);
  }

  get lastId(): string | null {
    return this.last;
  }

  /** True (and the position moves) when `id` is new; false for a copy or a malformed id. */
  accept(id: unknown): boolean {
    if (typeof id !== 'string') return false;
    const canonical = normalizeEventId(id);
    if (canonical === null) return false;
    if (this.last !== null && compareEventIds(canonical, this.last) <= 0) return false;
    this.last = canonical;
    return true;
  }

  /**
   * The server's `reset` said its stream continues after `id`, for a channel
   * that connected from `from`. If nothing was delivered since, the client's
   * position was not one of the user's (ahead of the stream, another user's):
   * take `id`, even backwards, or every later notification would look like a
   * copy. If something was, the position is real: only move forward.
   */
  restart(id: string, from: string | null): void {
    const canonical = normalizeEventId(id);
    if (canonical === null) return;
    if (this.last === from) this.last = canonical;
    else this.seek(canonical);
  }

  /** Moves to `id` without delivering anything (the start position); never moves back. */
  seek(id: string): void {
    const canonical = normalizeEventId(id);
    if (canonical !== null && (this.last === null || compareEventIds(canonical, this.last) > 0)) this.last = canonical;
  }
}
