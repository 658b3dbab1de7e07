import type { ResetReason } from './client-events';
import { compareNotificationIds } from './notification';

export type { ResetReason };

/**
 * A cursor a client sent that could not be read as an id at all, where the
 * contract says to treat it as unknown rather than refuse it (the
 * `Last-Event-ID` header: a browser's EventSource stops reconnecting after a 400).
 */
export const UNREADABLE_CURSOR = 'unreadable';

/** What the store knows about a user's stream when a client comes back with a cursor. */
export interface CursorCheck {
  /** The newest id in the stream ("0-0" when empty). */
  readonly lastId: string;
  /** The newest id trimmed from it ("0-0" if none was). */
  readonly maxTrimmedId: string;
  /** Whether the cursor is an entry the stream holds now. */
  readonly cursorExists: boolean;
}

/** Where a resuming channel continues from, and whether it first tells the client of a reset. */
export interface ResumePoint {
  /** The user's own position the channel continues after: safe to hand to the client as its cursor. */
  readonly position: string;
  readonly reset: ResetReason | null;
}

/**
 * Decides where a client's cursor lets it resume. Only positions the user's
 * own stream has had are resumed from: its entries and its trim watermark
 * ("0-0" until it is first trimmed). Anything else (ahead of the newest id, another user's or another
 * deployment's id, an id from before a clock jump) would, if taken as it is,
 * silently drop every later notification whose id is smaller; so it is a
 * reset, and the channel continues from the newest position.
 *
 * An id older than the trim watermark cannot be told apart from one of the
 * user's own trimmed ids: it resumes after the watermark with a
 * `history-truncated` reset, which delivers only the user's own retained
 * notifications either way.
 */
export function resumePoint(after: string | null, check: CursorCheck): ResumePoint {
  if (after === null) return { position: check.lastId, reset: null };
  if (after === UNREADABLE_CURSOR || compareNotificationIds(after, check.lastId) > 0) {
    return { position: check.lastId, reset: 'unknown-cursor' };
  }
  const beforeWatermark = compareNotificationIds(after, check.maxTrimmedId);
  if (beforeWatermark < 0) return { position: check.maxTrimmedId, reset: 'history-truncated' };
  if (beforeWatermark === 0 || check.cursorExists) return { position: after, reset: null };
  return { position: check.lastId, reset: 'unknown-cursor' };
}
