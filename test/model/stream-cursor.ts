import { createHash } from 'node:crypto';
import { canonicalId } from './cursor';

/*
 * The cursor of an SSE connection that carries topics, as the model reads and
 * forges it: `r1.u_<position>.<topic key>_<position>...`, `u` the user's own
 * stream, a topic's key the first 8 hex digits of the SHA-256 of its name, a
 * position `<ms>[-<seq>]` in base 36 (docs/api.md calls it opaque; the format is
 * the one stream-set-cursor.ts documents). Written here from that description,
 * not imported: the checker must not share a defect with the code it judges.
 * Reading it lets the checker say, for every `id:` line, where each stream of
 * the connection stands, and judge each stream on its own.
 */

export const USER_KEY = 'u';
const SEGMENT = /^(u|[0-9a-f]{8})_([0-9a-z]{1,13})(?:-([0-9a-z]{1,13}))?$/;

export function topicKey(topic: string): string {
  return createHash('sha256').update(topic).digest('hex').slice(0, 8);
}

/** A canonical `<ms>-<seq>` in the cursor's base-36 form. */
export function encodePosition(id: string): string {
  const [ms, seq] = id.split('-').map(BigInt);
  return seq === 0n ? ms.toString(36) : `${ms.toString(36)}-${seq.toString(36)}`;
}

function decodeBase36(digits: string): bigint {
  let value = 0n;
  for (const digit of digits) value = value * 36n + BigInt(parseInt(digit, 36));
  return value;
}

/** Where each stream of a combined cursor stands, by key (`u` or a topic key); null when it cannot be read at all. */
export function decodeCombined(raw: string): Map<string, string> | null {
  const value = raw.trim();
  if (!value.startsWith('r1.') || value.length > 1024) return null;
  const positions = new Map<string, string>();
  for (const segment of value.slice(3).split('.')) {
    const match = SEGMENT.exec(segment);
    if (!match || positions.has(match[1])) return null;
    const id = canonicalId(`${decodeBase36(match[2])}-${match[3] === undefined ? 0n : decodeBase36(match[3])}`);
    if (id === null) return null;
    positions.set(match[1], id);
  }
  return positions;
}

export function isCombined(raw: string): boolean {
  return raw.trim().startsWith('r1.');
}

/** A combined cursor from positions (null: leave that stream out); `extra` segments are appended as they are. */
export function encodeCombined(user: string | null, topics: Array<[string, string | null]>, extra: string[] = []): string {
  const segments = [...(user === null ? [] : [`${USER_KEY}_${encodePosition(user)}`])];
  for (const [topic, id] of topics) if (id !== null) segments.push(`${topicKey(topic)}_${encodePosition(id)}`);
  return ['r1', ...segments, ...extra].join('.');
}

/**
 * What one stream of a connection resumes from, as the server must read the
 * connection's cursor: a canonical id (or the cursor's text when it is not
 * one: then `via` says whether that is an unknown cursor or a refusal), or
 * null for none. Without `r1.`, a cursor is a plain notification id: it
 * resumes the user's stream and the topics start live, unless it cannot be
 * read at all, which makes every stream's cursor unknown (the header) or the
 * request a 400 (the query).
 */
export function streamCursor<V extends string>(raw: string | null, via: V | null, stream: { topic: string | null }): { cursor: string | null; via: V | 'header' | null } {
  if (raw === null) return { cursor: null, via: null };
  if (isCombined(raw)) {
    const positions = decodeCombined(raw);
    if (positions === null) return { cursor: raw, via };
    const position = positions.get(stream.topic === null ? USER_KEY : topicKey(stream.topic));
    // Every cursor the gateway writes names the user's stream: one without it is an unknown cursor, even in the query.
    if (stream.topic === null) return position === undefined ? { cursor: 'r1.(no user segment)', via: 'header' } : { cursor: position, via };
    return position === undefined ? { cursor: null, via: null } : { cursor: position, via };
  }
  if (stream.topic === null || canonicalId(raw) === null) return { cursor: raw, via };
  return { cursor: null, via: null };
}
