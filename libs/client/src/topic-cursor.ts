import { normalizeEventId } from './event-ids';

/*
 * The cursor of an SSE connection that carries topics, as the gateway writes it
 * (apps/gateway/src/events/stream-set-cursor.ts):
 *
 *   r1.u_<position>.<topic key>_<position>...
 *
 * `u` is the user's own stream; a topic's key is the first 8 hex digits of the
 * SHA-256 of its name; a position `<ms>-<seq>` is base 36, `-<seq>` left out
 * when 0. The client builds one from its own positions whenever it opens a
 * stream (a new set of topics, a new token, after a backoff), and reads one
 * stream's position back out of a `reset`'s `id:`.
 */

const VERSION = 'r1';
/** The user's own stream in a cursor. */
export const USER_STREAM_KEY = 'u';
const SEGMENT = /^(u|[0-9a-f]{8})_([0-9a-z]{1,13})(?:-([0-9a-z]{1,13}))?$/;

const keys = new Map<string, Promise<string | null>>();

/**
 * A topic's key in a cursor, computed once per topic. Null where there is no
 * SubtleCrypto (a page served over plain http from another host than
 * localhost): the topic is then left out of the cursors this client builds,
 * and starts from its newest event whenever the client opens a new stream.
 */
export function topicKey(topic: string): Promise<string | null> {
  let key = keys.get(topic);
  if (key === undefined) {
    const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
    key = subtle
      ? subtle.digest('SHA-256', new TextEncoder().encode(topic)).then(
          (digest) => [...new Uint8Array(digest, 0, 4)].map((byte) => byte.toString(16).padStart(2, '0')).join(''),
          () => null,
        )
      : Promise.resolve(null);
    keys.set(topic, key);
  }
  return key;
}

/** A canonical `<ms>-<seq>` id in the cursor's base-36 form. */
export function encodePosition(id: string): string {
  const [ms, seq] = id.split('-');
  const msText = BigInt(ms).toString(36);
  return seq === undefined || seq === '0' ? msText : `${msText}-${BigInt(seq).toString(36)}`;
}

function decodeBase36(digits: string): bigint {
  let value = 0n;
  for (const digit of digits) value = value * 36n + BigInt(parseInt(digit, 36));
  return value;
}

/**
 * A cursor that resumes every stream after the given position. Streams without
 * a position (or a topic without a key) are left out: the gateway starts them
 * from their newest event. Without the user's position the gateway resets the
 * user's stream to its newest id, which the client then takes.
 */
export function buildStreamSetCursor(user: string | null, topics: ReadonlyArray<{ key: string | null; lastEventId: string | null }>): string {
  const segments: string[] = [];
  if (user !== null) segments.push(`${USER_STREAM_KEY}_${encodePosition(user)}`);
  for (const { key, lastEventId } of topics) if (key !== null && lastEventId !== null) segments.push(`${key}_${encodePosition(lastEventId)}`);
  return `${VERSION}.${segments.join('.')}`;
}

/** The position a cursor gives the stream `key` (a plain id counts as the user's); null if it names none. */
export function cursorPosition(cursor: string, key: string): string | null {
  if (!cursor.startsWith(`${VERSION}.`)) return key === USER_STREAM_KEY ? normalizeEventId(cursor) : null;
  for (const segment of cursor.slice(VERSION.length + 1).split('.')) {
    const match = SEGMENT.exec(segment);
    if (match === null || match[1] !== key) continue;
    return `${decodeBase36(match[2])}-${match[3] === undefined ? 0n : decodeBase36(match[3])}`;
  }
  return null;
}
