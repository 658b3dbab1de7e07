import type { Fleet, Route } from './fleet';
import { seqOf } from './truth';

/*
 * A logical client is what a user's app holds: one identity that connects,
 * gets dropped, reconnects (following to the other instance when its own is
 * gone) and resumes, as a browser or a stock client library would. Each
 * connection attempt is a Segment; the checker judges every segment against
 * the cursor it was opened with, and the segments together as one stream.
 */

export type ClientKind = 'sse' | 'eventsource' | 'websocket' | 'sio-polling' | 'rest-polling';
export type CursorVia = 'header' | 'query' | 'auth' | 'after';

export type Received =
  | { kind: 'item'; id: string; userId: string; type: string; seq: number | null; at: number }
  /** `position`: where the stream says it continues after (SSE: the reset's `id:`; Socket.IO: `lastEventId`), if it says. */
  | { kind: 'reset'; reason: string; position?: string; at: number }
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
  ) {}

  /** Starts connecting with this cursor; see {@link ready}. */
  abstract open(cursor: string | null, via: CursorVia | null): void;
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

/** Reads one notification as a client received it; anything off-contract becomes a `bad` entry. */
export function readNotification(json: string, frameId?: string): Received {
  const at = performance.now();
  try {
    const value = JSON.parse(json) as { id?: unknown; userId?: unknown; type?: unknown; data?: Record<string, unknown> };
    if (typeof value.id !== 'string' || typeof value.userId !== 'string' || typeof value.type !== 'string') {
      return { kind: 'bad', text: `not a notification: ${json.slice(0, 120)}`, at };
    }
    if (frameId !== undefined && frameId !== value.id) return { kind: 'bad', text: `id: line ${frameId} but notification id ${value.id}`, at };
    return { kind: 'item', id: value.id, userId: value.userId, type: value.type, seq: seqOf(value as never), at };
  } catch {
    return { kind: 'bad', text: `unparseable: ${json.slice(0, 120)}`, at };
  }
}

/** A `reset`: its reason, and where the stream continues after (`position`, from the frame's id or the payload's lastEventId). */
export function readReset(payload: unknown, position?: string): Received & { kind: 'reset' } {
  const fields = typeof payload === 'object' && payload !== null ? (payload as { reason?: unknown; lastEventId?: unknown }) : {};
  const reason = typeof fields.reason === 'string' ? fields.reason : `(no reason: ${JSON.stringify(payload)})`;
  const at = typeof fields.lastEventId === 'string' ? fields.lastEventId : position;
  return { kind: 'reset', reason, ...(at !== undefined && at !== '' ? { position: at } : {}), at: performance.now() };
}

/** Event names that carry state, not notifications: clients ignore them here. */
export const NON_NOTIFICATION_EVENTS = new Set(['inbox', 'chat', 'presence', 'typing', 'cursor-move', 'token-expired']);

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
