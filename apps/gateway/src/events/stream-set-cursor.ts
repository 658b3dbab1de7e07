import { createHash } from 'node:crypto';
import { parseNotificationId, UNREADABLE_CURSOR } from '@app/notifications';

/*
 * The cursor of an SSE connection that carries topics: one opaque string in
 * each event's `id:` line that says where every stream of the connection
 * stands, so that `Last-Event-ID` resumes all of them with no gap and no
 * duplicate.
 *
 *   r1.u_<position>.<topic key>_<position>...
 *
 * `u` is the user's own notifications; a topic's key is the first 8 hex
 * digits of the SHA-256 of its name (a collision between two of one
 * connection's 20 topics has odds of about 1 in 10^7, and would only cost a
 * reset). A position `<ms>-<seq>` is written in base 36, `-<seq>` left out
 * when 0: a 20-topic cursor is about 400 characters. Nothing in it is
 * trusted: a position is only resumed from when its stream holds it (see
 * resumePoint), so a forged cursor gets a reset, never another stream's events.
 */

const VERSION = 'r1';
const USER_KEY = 'u';
/** Longer cursors are not ours: 21 streams of the longest positions fit well within this. */
export const MAX_CURSOR_LENGTH = 1024;
const SEGMENT = /^(u|[0-9a-f]{8})_([0-9a-z]{1,13})(?:-([0-9a-z]{1,13}))?$/;

/** Where each stream of a connection resumes after; absent: no cursor for it (live from the newest). */
export interface StreamSetResume {
  /** The user's stream: a canonical id, UNREADABLE_CURSOR, or null for none. */
  readonly user: string | null;
  /** By topic key ({@link topicKey}). */
  readonly topics: ReadonlyMap<string, string>;
  /** Nothing could be read from the client's cursor: every stream resumes from UNREADABLE_CURSOR. */
  readonly unreadable: boolean;
}

const NONE: ReadonlyMap<string, string> = new Map();

/** The key of a topic in a cursor. */
export function topicKey(topic: string): string {
  return createHash('sha256').update(topic).digest('hex').slice(0, 8);
}

/** A canonical `<ms>-<seq>` id in the cursor's base-36 form. */
export function encodePosition(id: string): string {
  const dash = id.indexOf('-');
  const ms = BigInt(id.slice(0, dash)).toString(36);
  const seq = id.slice(dash + 1);
  return seq === '0' ? ms : `${ms}-${BigInt(seq).toString(36)}`;
}

function decodeBase36(digits: string): bigint {
  let value = 0n;
  for (const digit of digits) value = value * 36n + BigInt(parseInt(digit, 36));
  return value;
}

/**
 * What a client's cursor says: a plain notification id (a connection without
 * topics, or a client that only knew that) resumes the user's stream; a
 * stream-set cursor resumes each stream it names. Null when it is neither
 * (the caller decides between a 400 and an unknown cursor).
 */
export function parseStreamSetCursor(raw: string): StreamSetResume | null {
  const value = raw.trim();
  if (!value.startsWith(`${VERSION}.`)) {
    const id = parseNotificationId(value);
    return id === null ? null : { user: id, topics: NONE, unreadable: false };
  }
  if (value.length > MAX_CURSOR_LENGTH) return null;
  let user: string | null = null;
  const topics = new Map<string, string>();
  for (const segment of value.slice(VERSION.length + 1).split('.')) {
    const match = SEGMENT.exec(segment);
    if (match === null) return null;
    const id = parseNotificationId(`${decodeBase36(match[2])}-${match[3] === undefined ? 0n : decodeBase36(match[3])}`);
    if (id === null) return null;
    const [, key] = match;
    if (key === USER_KEY ? user !== null : topics.has(key)) return null;
    if (key === USER_KEY) user = id;
    else topics.set(key, id);
  }
  // Every cursor this gateway wrote names the user's stream: one without it is not a position of theirs.
  return { user: user ?? UNREADABLE_CURSOR, topics, unreadable: false };
}

/** A cursor nothing could be read from: every stream of the connection gets `reset` `unknown-cursor`. */
export const UNREADABLE_RESUME: StreamSetResume = { user: UNREADABLE_CURSOR, topics: NONE, unreadable: true };

/**
 * The positions of one connection's streams (index 0: the user's, then its
 * topics in order), encoded once per change: each event re-encodes only its
 * own stream's segment.
 */
export class StreamSetCursor {
  private readonly keys: string[];
  private readonly segments: string[];
  private encoded: string | null = null;

  constructor(topics: readonly string[]) {
    this.keys = [USER_KEY, ...topics.map(topicKey)];
    this.segments = new Array<string>(this.keys.length).fill('');
  }

  /** Where a topic of this connection resumes after, as the client's cursor says (see parseStreamSetCursor). */
  static topicResume(resume: StreamSetResume | null, topic: string): string | null {
    if (resume === null) return null;
    if (resume.unreadable) return UNREADABLE_CURSOR;
    return resume.topics.get(topicKey(topic)) ?? null;
  }

  /** Stream `index` now stands at `position` (a canonical id). */
  set(index: number, position: string): void {
    this.segments[index] = `${this.keys[index]}_${encodePosition(position)}`;
    this.encoded = null;
  }

  /** The cursor as the `id:` line carries it; every stream must have been set. */
  toString(): string {
    this.encoded ??= `${VERSION}.${this.segments.join('.')}`;
    return this.encoded;
  }
}
