import { InvalidInputError, parseNotificationId, UNREADABLE_CURSOR } from '@app/notifications';

/**
 * The resume cursor rules of every channel (SSE `Last-Event-ID` and
 * `?lastEventId`, polling `?after`, Socket.IO `auth.lastEventId`).
 *
 * A cursor is a notification id (`<ms>-<seq>`, or `<ms>`), surrounding
 * whitespace ignored, returned canonical; absent (`undefined`, `null`, `""`)
 * is null: no cursor. A value that is not a cursor at all is refused naming
 * the field (HTTP 400, Socket.IO `bad_cursor`), except in the `Last-Event-ID`
 * header, see {@link cursorFromHeader}. Whether a well-formed cursor is a
 * position of the user's stream is the feed's question, not the edge's.
 */

/** Reads a trimmed cursor; null when it is not one. */
export type CursorParser<T> = (value: string) => T | null;

/**
 * A cursor from a query parameter or a handshake field. Only a string: a
 * repeated parameter is an array, and a JSON number cannot carry a 64-bit id
 * exactly. `parse` reads a cursor of another form under the same rule (SSE's
 * cursor over several streams).
 */
export function cursorFromField(value: unknown, field: string): string | null;
export function cursorFromField<T>(value: unknown, field: string, parse: CursorParser<T>): T | null;
export function cursorFromField(value: unknown, field: string, parse: CursorParser<unknown> = parseNotificationId): unknown {
  if (value === undefined || value === null || value === '') return null;
  const cursor = typeof value === 'string' ? parse(value.trim()) : null;
  if (cursor === null) throw new InvalidInputError(field, `${field} must be a notification id like 1732190000000-0`);
  return cursor;
}

/**
 * The `Last-Event-ID` header: a malformed value is an unknown cursor (the
 * stream answers `reset` and goes on), never a 400, because a browser's
 * EventSource stops reconnecting after a 400 and would keep sending it.
 */
export function cursorFromHeader(value: string | string[] | undefined): string | null;
export function cursorFromHeader<T>(value: string | string[] | undefined, parse: CursorParser<T>, unreadable: T): T | null;
export function cursorFromHeader(value: string | string[] | undefined, parse: CursorParser<unknown> = parseNotificationId, unreadable: unknown = UNREADABLE_CURSOR): unknown {
  if (value === undefined || value === '') return null;
  return (typeof value === 'string' ? parse(value.trim()) : null) ?? unreadable;
}
