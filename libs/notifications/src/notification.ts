import { InvalidInputError } from './errors';
import { jsonShapeProblem } from './json-shape';

/** The one shape a notification has on every channel. */
export interface Notification<TData extends object = Record<string, unknown>> {
  /** Redis stream id: unique, strictly increasing per user in delivery order. */
  id: string;
  type: string;
  userId: string;
  data: TData;
  /** ISO-8601 time of publishing. */
  createdAt: string;
}

/** What a publisher hands to {@link NotificationService.publish}. */
export interface NotificationInput {
  userId: string;
  type: string;
  data: Record<string, unknown>;
  idempotencyKey?: string;
}

export const NOTIFICATION_TYPES = {
  jobMatch: 'job-match',
  messageReceived: 'message-received',
} as const;

export const NOTIFICATION_TYPE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/**
 * User ids come from JWT `sub` in any script, name Redis keys, channels and
 * rooms, and appear in logs: 1 to 128 code points (the `u` flag counts an emoji
 * as one), no control characters, no whitespace, and no lone surrogates, which
 * have no UTF-8 form (Redis would store U+FFFD, so two ids would share keys).
 * Format characters stay allowed: emoji ZWJ sequences need U+200D.
 */
export const USER_ID_PATTERN = /^[^\p{Cc}\p{Cs}\p{White_Space}]{1,128}$/u;
/** What {@link USER_ID_PATTERN} asks for, in words, for error messages after the field name. */
export const USER_ID_RULE = 'must be 1 to 128 characters (letters, digits, punctuation, emoji) without whitespace or control characters';
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;
export const MAX_DATA_BYTES = 64 * 1024;

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID_PATTERN.test(value);
}

/** Checks the invariants of a notification; returns the input narrowed, or throws {@link InvalidInputError}. */
export function assertNotificationInput(input: unknown): NotificationInput {
  const body = assertJsonObjectBody(input);
  const { userId } = body;
  if (!isUserId(userId)) throw new InvalidInputError('userId', `userId ${USER_ID_RULE}`);
  return { userId, ...assertEntryFields(body) };
}

/** A request body that must be a JSON object; throws InvalidInputError naming `body`. */
export function assertJsonObjectBody(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError('body', 'body must be a JSON object');
  }
  return input as Record<string, unknown>;
}

/** The fields every stream entry has, a user's notification or a topic's event: `type`, `data`, `idempotencyKey?`. */
export function assertEntryFields(body: Record<string, unknown>): Pick<NotificationInput, 'type' | 'data' | 'idempotencyKey'> {
  const { type, data, idempotencyKey } = body;
  if (typeof type !== 'string' || !NOTIFICATION_TYPE_PATTERN.test(type)) {
    throw new InvalidInputError('type', `type must match ${NOTIFICATION_TYPE_PATTERN.source}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InvalidInputError('data', 'data must be a JSON object');
  }
  // Before serializing: JSON.stringify overflows the stack on deep enough input.
  const problem = jsonShapeProblem(data);
  if (problem !== null) throw new InvalidInputError('data', `data ${problem}`);
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) {
    throw new InvalidInputError('data', `data must be at most ${MAX_DATA_BYTES} bytes serialized`);
  }
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey))) {
    throw new InvalidInputError('idempotencyKey', 'idempotencyKey must be 1-128 printable characters without spaces');
  }
  return { type, data: data as Record<string, unknown>, idempotencyKey };
}

const STREAM_ID = /^(\d{1,20})(?:-(\d{1,20}))?$/;
const UINT64_MAX = 18446744073709551615n;

/**
 * Normalizes a client-supplied resume id (`Last-Event-ID`, `after`, ...) to the
 * canonical `<ms>-<seq>` form; `"0"` means "from the beginning". Returns null if it
 * is not a stream id.
 */
export function parseNotificationId(value: string): string | null {
  const match = STREAM_ID.exec(value);
  if (!match) return null;
  const ms = BigInt(match[1]);
  const seq = BigInt(match[2] ?? '0');
  if (ms > UINT64_MAX || seq > UINT64_MAX) return null;
  return `${ms}-${seq}`;
}

/** Orders two canonical stream ids (as produced by Redis or {@link parseNotificationId}). */
export function compareNotificationIds(a: string, b: string): number {
  const dashA = a.indexOf('-');
  const dashB = b.indexOf('-');
  // Canonical ids have no leading zeros, so a longer number is a bigger one and
  // numbers of equal length order like their digit strings.
  if (dashA !== dashB) return dashA < dashB ? -1 : 1;
  for (let i = 0; i < dashA; i++) {
    const diff = a.charCodeAt(i) - b.charCodeAt(i);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  const seqLengthA = a.length - dashA;
  const seqLengthB = b.length - dashB;
  if (seqLengthA !== seqLengthB) return seqLengthA < seqLengthB ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
