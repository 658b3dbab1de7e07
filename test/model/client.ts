import { type Fleet, type Route, userToken } from './fleet';
import { seqOf } from './truth';

/*
 * A logical client is what a user's app holds: one identity that connects,
 * gets dropped, reconnects (following to the other instance when its own is
 * gone) and resumes, as a browser or a stock client library would. Each
 * connection attempt is a Segment; the checker judges every segment against
 * the cursor it was opened with, and the segments together as one stream,
 * for each stream the client follows: the user's own and its topics.
 */

export type ClientKind = 'sse' | 'eventsource' | 'websocket' | 'sio-polling' | 'rest-polling';
export type CursorVia = 'header' | 'query' | 'auth' | 'after';

export type Received =
  /**
   * A notification (`stream` its userId) or a topic event (`stream` its topic). `frameId`: on an SSE
   * connection with topics, the `id:` line that came with it (the connection's cursor, judged by the checker).
   */
  | { kind: 'item'; id: string; stream: string; topic: boolean; type: string; seq: number | null; at: number; frameId?: string }
  /**
   * `position`: where the stream says it continues after (SSE: the reset's `id:`, with topics the connection's
   * cursor; Socket.IO: `lastEventId`), if it says. `topic`: the topic whose stream it is; absent for the user's.
   */
  | { kind: 'reset'; reason: string; position?: string; topic?: string; at: number }
  /** A frame the client could not read as the contract says (e.g. `id:` line differing from the notification id). */
  | { kind: 'bad'; text: string; at: number };

export interface Segment {
  index: number;
  route: Route;
  cursor: string | null;
  via: CursorVia | null;
  /** performance.now() when the request left. */
  openedAt: number;
  /** When the connection was up: SSE headers, Socket.IO `connect`, a polling answer. */
  establishedAt: number | null;
  endedAt: number | null;
  /** Not admitted: the HTTP status or the `connect_error` message. */
  refused: string | null;
  /** SSE: the id of the opening id-only block, the position the stream continues after. */
  position: string | null;
  received: Received[];
  /** Who ended it: the model (client), the server (cleanly, or after a final `retry:`), a transport error. */
  end: null | 'client' | 'server' | 'server-retry' | 'server-disconnect' | 'error';
  endDetail?: string;
  /** The reader stopped reading at some point of this connection. */
  paused: boolean;
  /** Socket.IO: each `topic:subscribe` sent on this connection, in order. */
  subs: TopicSub[];
  /** Each `inbox` (the user's read state) the connection heard, in order: kept apart from `received`, it is state, not history. */
  inbox: InboxHeard[];
}

/** One `inbox` a connection heard. */
export interface InboxHeard {
  unread: number;
  readUpTo: string;
  at: number;
  /** How many of the segment's `received` events came before it: the contract says 0 for the first. */
  before: number;
  /** What was off-contract about it (not `{ unread, readUpTo }`, an `id:` line), if anything. */
  bad?: string;
}

/** One `topic:subscribe` of a socket; its events are those of the topic in `received` from `from` on (up to the next one of the topic). */
export interface TopicSub {
  topic: string;
  /** The `lastEventId` sent (null: none). */
  cursor: string | null;
  sentAt: number;
  /** Index in the segment's `received` when it was sent, and when its ack came. */
  from: number;
  ackIndex: number | null;
  ackedAt: number | null;
  ack: null | { ok: true; lastEventId: string } | { ok: false; error: string };
}

/** One `GET /api/notifications` of a polling client. */
export interface Poll {
  route: Route;
  after: string | null;
  sentAt: number;
  answeredAt: number | null;
  status: number | string | null;
  items: Received[];
  lastId?: string | null;
  /** The answer's `reset.reason`, when it has one. */
  reset?: string;
  body?: string;
}

export abstract class LogicalClient {
  readonly segments: Segment[] = [];
  readonly polls: Poll[] = [];
  /** Closed by the model (a reopen clears it). */
  closed = false;
  /** Stopped trying for good: refused as the contract says it must be, or an error the checker reports. */
  dead: string | null = null;
  /** The cursor of the model's last open (the first segment of that open carries it). */
  openedWith: { cursor: string | null; via: CursorVia | null } = { cursor: null, via: null };

  constructor(
    readonly name: string,
    readonly kind: ClientKind,
    readonly user: string,
    protected readonly fleet: Fleet,
    protected preferred: number,
    /** Topics followed beside the user's own stream (a polling client polls the first one instead of the user's). */
    readonly topics: readonly string[] = [],
    /** The token's `topics` claim. */
    readonly claims: readonly string[] = [],
  ) {}

  /** The streams this client follows: the user's own and its topics, or the one it polls. */
  get streams(): string[] {
    if (this.kind === 'rest-polling') return [this.topics[0] ?? this.user];
    return [this.user, ...this.topics];
  }

  /** Whether the model's deployment lets this client follow the topic (PUBLIC_TOPICS `jobs.*`, or its claim). */
  mayFollow(topic: string): boolean {
    return topic.startsWith('jobs.') || this.claims.includes(topic);
  }

  protected token(): string {
    return userToken(this.user, this.claims.length > 0 ? { topics: this.claims } : {});
  }

  /**
   * Starts connecting with this cursor; see {@link ready}. `topicCursors`: Socket.IO, the `lastEventId` of each
   * topic's first `topic:subscribe` (later ones, after a reconnect, send the last id received of the topic).
   */
  abstract open(cursor: string | null, via: CursorVia | null, topicCursors?: ReadonlyMap<string, string | null>): void;
  abstract close(): void;
  /** What the client resumes from: the last id it saw (SSE: the last `id:` line, the opening one included). */
  abstract resumeId(): string | null;
  /** How this kind passes a cursor. */
  abstract readonly cursorVia: CursorVia;

  get current(): Segment | undefined {
    return this.segments[this.segments.length - 1];
  }

  /** Connected, refused or given up: what a command waits for before the next step. */
  get settledOpen(): boolean {
    if (this.dead !== null || this.closed) return true;
    if (this.kind === 'rest-polling') return this.polls.some((poll) => poll.answeredAt !== null);
    const segment = this.current;
    return segment !== undefined && (segment.establishedAt !== null || segment.refused !== null);
  }

  reopen(): void {
    this.open(this.resumeId(), this.cursorVia);
  }

  protected begin(route: Route, cursor: string | null, via: CursorVia | null): Segment {
    const segment: Segment = {
      index: this.segments.length,
      route,
      cursor,
      via: cursor === null ? null : via,
      openedAt: performance.now(),
      establishedAt: null,
      endedAt: null,
      refused: null,
      position: null,
      received: [],
      end: null,
      paused: false,
      subs: [],
      inbox: [],
    };
    this.segments.push(segment);
    return segment;
  }

  protected finish(segment: Segment, end: NonNullable<Segment['end']>, detail?: string): void {
    if (segment.end !== null) return;
    segment.end = end;
    segment.endDetail = detail;
    segment.endedAt = performance.now();
  }
}

/**
 * Reads one notification or topic event as a client received it; anything off-contract becomes a `bad` entry.
 * `frameId`: the `id:` line, which must be the entry's id, unless `combined` (a connection with topics: kept for the checker).
 */
export function readNotification(json: string, frameId?: string, combined = false): Received {
  const at = performance.now();
  try {
    const value = JSON.parse(json) as { id?: unknown; userId?: unknown; topic?: unknown; type?: unknown; data?: Record<string, unknown> };
    const stream = value.topic ?? value.userId;
    if (typeof value.id !== 'string' || typeof stream !== 'string' || typeof value.type !== 'string' || (value.topic !== undefined && value.userId !== undefined)) {
      return { kind: 'bad', text: `not a notification or topic event: ${json.slice(0, 120)}`, at };
    }
    if (!combined && frameId !== undefined && frameId !== value.id) return { kind: 'bad', text: `id: line ${frameId} but notification id ${value.id}`, at };
    return { kind: 'item', id: value.id, stream, topic: value.topic !== undefined, type: value.type, seq: seqOf(value as never), at, ...(combined ? { frameId } : {}) };
  } catch {
    return { kind: 'bad', text: `unparseable: ${json.slice(0, 120)}`, at };
  }
}

/** A `reset`: its reason, and where the stream continues after (`position`, from the frame's id or the payload's lastEventId). */
export function readReset(payload: unknown, position?: string): Received & { kind: 'reset' } {
  const fields = typeof payload === 'object' && payload !== null ? (payload as { reason?: unknown; lastEventId?: unknown; topic?: unknown }) : {};
  const reason = typeof fields.reason === 'string' ? fields.reason : `(no reason: ${JSON.stringify(payload)})`;
  const at = typeof fields.lastEventId === 'string' ? fields.lastEventId : position;
  const topic = typeof fields.topic === 'string' ? { topic: fields.topic } : {};
  return { kind: 'reset', reason, ...(at !== undefined && at !== '' ? { position: at } : {}), ...topic, at: performance.now() };
}

/** An `inbox` as a connection heard it; `idLine`: the SSE frame's `id:` (the contract says it has none). */
export function readInbox(payload: unknown, before: number, idLine?: string): InboxHeard {
  const fields = typeof payload === 'object' && payload !== null ? (payload as { unread?: unknown; readUpTo?: unknown }) : {};
  const unread = typeof fields.unread === 'number' ? fields.unread : -1;
  const readUpTo = typeof fields.readUpTo === 'string' ? fields.readUpTo : '(none)';
  const shape = Number.isInteger(unread) && unread >= 0 && readUpTo !== '(none)' && Object.keys(fields).length === 2 ? undefined : `not { unread, readUpTo }: ${JSON.stringify(payload)?.slice(0, 120)}`;
  const bad = shape ?? (idLine !== undefined ? `an id: line (${idLine}) on inbox, which is state, not history` : undefined);
  return { unread, readUpTo, at: performance.now(), before, ...(bad ? { bad } : {}) };
}

/** Event names that carry state, not notifications: never read as notifications (`inbox` is recorded apart, see readInbox). */
export const NON_NOTIFICATION_EVENTS = new Set(['inbox', 'chat', 'presence', 'typing', 'cursor-move', 'token-expired']);

/** Every type the model publishes: notifications (`job-match`, `model-ping`, chat's `message-received`) and topic events. */
export const MODEL_EVENT_TYPES = ['job-match', 'message-received', 'model-ping', 'model-tick', 'model-score'] as const;

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
