import type { ClientToServerEventMap, InboxPayload } from '@app/notifications/client-events';
import { safely } from './client-listeners';
import { compareEventIds, normalizeEventId } from './event-ids';
import type { TokenSource } from './token-source';
import { isInboxPayload } from './transport';

/** The user's read state: `unread` retained notifications, everything up to `readUpTo` read (`"0-0"` at first). */
export type InboxState = InboxPayload;

/** Ids one read may name (the contract's bound); `markRead` sends more in several reads. */
export const MAX_READ_IDS = 200;

type ReadPayload = ClientToServerEventMap['inbox:read']['payload'];
type ReadAck = ClientToServerEventMap['inbox:read']['ack'];

/** A read or a state request the gateway refused or could not answer. */
export class InboxError extends Error {
  constructor(
    message: string,
    /** The HTTP status; null when there was no HTTP answer (a Socket.IO refusal, an answer that is not a state). */
    readonly status: number | null,
    /** The field a refused read named (`ids[3]`, `upTo`). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'InboxError';
  }
}

/**
 * `client.inbox`: the user's unread count and read position, the same in every
 * tab. The channels keep it (SSE and Socket.IO push `inbox` on connect and on
 * every change, polling reads it each round); the tabs share the leader's.
 */
export interface ClientInbox {
  /** Unread retained notifications; 0 until the state is known. */
  readonly unread: number;
  /** Everything up to this id is read; `"0-0"` until the state is known. */
  readonly readUpTo: string;
  /** False until a channel, the leader tab or an answer has told the state. */
  readonly known: boolean;
  /** `{ unread, readUpTo }` (a copy), or null until the state is known. */
  readonly state: InboxState | null;
  /** Marks these notifications read (any number: sent 200 at a time); resolves with the new state. */
  markRead(ids: readonly string[]): Promise<InboxState>;
  /** Marks read every notification up to the newest this client has seen; resolves with the new state. */
  markAllRead(): Promise<InboxState>;
  /** Reads the state (`GET /api/notifications/unread`); resolves with it. */
  refresh(): Promise<InboxState>;
  /** Called at once with the current state (when known), then on every change. Returns the unsubscribe function. */
  onChange(handler: (state: InboxState) => void): () => void;
}

export interface InboxOptions {
  readonly baseUrl: string;
  readonly tokens: TokenSource;
  readonly fetch: typeof fetch;
  /** The newest notification id the client has seen (its position in the user's stream). */
  lastEventId(): string | null;
  /** `inbox:read` over this tab's open socket; null when it has none open (then REST). */
  socketRead(): ((payload: ReadPayload) => Promise<ReadAck>) | null;
  /** The state changed in this tab (the leader tab tells the others). */
  changed(state: InboxState): void;
}

/**
 * The state behind `client.inbox`. Every state a channel tells (or the leader
 * tab relays) is taken as it comes. The answer to a read is taken unless a
 * push came while it was on its way: that push may be newer than the answer,
 * and since SSE and Socket.IO push every change, the push of the read's own
 * change follows anyway. A poll's state is no such proof (the poll may have
 * been read before the read was done): the answer wins over it, and the next
 * poll corrects either.
 */
export class Inbox implements ClientInbox {
  private current: InboxState | null = null;
  /** How many states were pushed: a read's answer may be stale if this moved while it was on its way. */
  private pushed = 0;
  private readonly handlers = new Set<(state: InboxState) => void>();

  constructor(private readonly options: InboxOptions) {}

  get unread(): number {
    return this.current?.unread ?? 0;
  }

  get readUpTo(): string {
    return this.current?.readUpTo ?? '0-0';
  }

  get known(): boolean {
    return this.current !== null;
  }

  get state(): InboxState | null {
    return this.current === null ? null : { ...this.current };
  }

  onChange(handler: (state: InboxState) => void): () => void {
    this.handlers.add(handler);
    if (this.current !== null) handler({ ...this.current });
    return () => this.handlers.delete(handler);
  }

  /** A state a channel told, or the leader tab relayed; `pushed` unless it is a poll's. */
  receive(state: InboxState, pushed = true): void {
    if (pushed) this.pushed++;
    this.apply(state);
  }

  async markRead(ids: readonly string[]): Promise<InboxState> {
    if (!Array.isArray(ids)) throw new TypeError('markRead: ids must be an array of notification ids');
    const canonical = ids.map((id, index) => {
      const normalized = typeof id === 'string' ? normalizeEventId(id) : null;
      if (normalized === null) throw new TypeError(`markRead: ids[${index}] must be a notification id like 1732190000000-0, got ${JSON.stringify(id)}`);
      return normalized;
    });
    const unique = [...new Set(canonical)];
    if (unique.length === 0) return this.refresh();
    let state: InboxState | undefined;
    for (let start = 0; start < unique.length; start += MAX_READ_IDS) state = await this.read({ ids: unique.slice(start, start + MAX_READ_IDS) });
    return state as InboxState;
  }

  async markAllRead(): Promise<InboxState> {
    const upTo = this.options.lastEventId();
    // No notification seen yet: nothing this client could call "all".
    if (upTo === null || compareEventIds(upTo, '0-0') <= 0) return this.refresh();
    return this.read({ upTo });
  }

  async refresh(): Promise<InboxState> {
    const pushed = this.pushed;
    return this.answered(await this.http('GET', '/api/notifications/unread'), pushed);
  }

  /** Over the open socket if there is one (a dropped ack falls back to REST: a read twice is the same read), else REST. */
  private async read(payload: ReadPayload): Promise<InboxState> {
    const pushed = this.pushed;
    const viaSocket = this.options.socketRead();
    if (viaSocket !== null) {
      const ack = await viaSocket(payload);
      if (ack.ok && isInboxPayload(ack)) return this.answered(ack, pushed);
      if (!ack.ok && ack.error === 'invalid_payload') throw new InboxError(`inbox:read refused: ${ack.field ?? ack.error}`, null, ack.field);
    }
    return this.answered(await this.http('POST', '/api/notifications/read', payload), pushed);
  }

  private answered(state: InboxState, pushedBefore: number): InboxState {
    const answer = { unread: state.unread, readUpTo: state.readUpTo };
    if (this.pushed === pushedBefore) this.apply(answer);
    return answer;
  }

  private apply(state: InboxState): void {
    if (this.current !== null && this.current.unread === state.unread && this.current.readUpTo === state.readUpTo) return;
    this.current = { unread: state.unread, readUpTo: state.readUpTo };
    for (const handler of [...this.handlers]) safely(() => handler({ ...state }));
    this.options.changed({ ...state });
  }

  /** A request with the user token, once more with a fresh one after a 401; the state it answers, or an InboxError. */
  private async http(method: 'GET' | 'POST', path: string, body?: ReadPayload): Promise<InboxState> {
    const send = (token: string) =>
      this.options.fetch(new URL(path, this.options.baseUrl).href, {
        method,
        headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    let response = await send(await this.options.tokens.get());
    if (response.status === 401 && this.options.tokens.refreshable) response = await send(await this.options.tokens.refresh());
    const answer: unknown = await response.json().catch(() => null);
    if (response.status === 200 && isInboxPayload(answer)) return answer;
    const { message, field } = (answer ?? {}) as { message?: unknown; field?: unknown };
    const reason = typeof message === 'string' ? message : response.status === 200 ? 'the answer is not a read state' : `HTTP ${response.status}`;
    throw new InboxError(`${method} ${path}: ${reason}`, response.status, typeof field === 'string' ? field : undefined);
  }
}
