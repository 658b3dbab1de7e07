import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEventMap, ClientToServerEvents, ServerToClientEvents } from '@app/notifications/client-events';
import { Backoff } from './backoff';
import { isTopicEvent } from './topics';
import { isInboxPayload, isNotification, type TopicCursor, type Transport, type TransportContext } from './transport';

export type RealtimeSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Server events that are not notifications: handed to the client as they are. */
export const SOCKET_EVENTS = ['chat', 'typing', 'cursor-move', 'presence'] as const;
export type SocketEventName = (typeof SOCKET_EVENTS)[number];

export interface SocketTransportOptions {
  /** Socket.IO's `io`, injectable for tests. */
  readonly io?: typeof io;
  /** Called for every server event that is not a notification (chat, typing, cursors, presence). */
  readonly onEvent: (name: SocketEventName, payload: unknown) => void;
  /** How long an emit waits for its acknowledgement. */
  readonly ackTimeoutMs?: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** `topic:subscribe` refusals that asking again will not change; any other (`timeout`, `unavailable`, `rate_limited`) is retried. */
const FINAL_TOPIC_ERRORS: ReadonlySet<string> = new Set(['forbidden', 'too_many_topics', 'bad_cursor', 'invalid_payload']);
/** Wait before asking again for topics whose subscribe failed for now (doubled by jitter at most). */
const TOPIC_RETRY_MS = 1_000;

type Ack<E extends keyof ClientToServerEventMap> = ClientToServerEventMap[E]['ack'];

/**
 * Socket.IO on the default namespace. The stock client reconnects by itself with
 * exponential backoff and jitter; `auth` is a function, so each attempt sends the
 * current token and the client's position as `lastEventId`. This class adds:
 * - after the server disconnects the socket (token expired) or refuses the
 *   handshake (`unauthorized`), cases the stock client does not retry: a fresh
 *   token and a new attempt after a backoff;
 * - `auth:refresh` shortly before the token expires, so the socket stays up;
 * - the rooms it was asked to join, joined again on every connect (the server
 *   does not restore them);
 * - the client's topics, subscribed on every connect from the last id the
 *   client has of each (subscriptions belong to a socket), and subscribed or
 *   unsubscribed as the list changes.
 */
export class SocketTransport implements Transport {
  private socket: RealtimeSocket | null = null;
  private readonly rooms = new Set<string>();
  /** The resume id the current connection was made from: a `reset` refers to it. */
  private connectedFrom: string | null = null;
  private readonly backoff: Backoff;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Topics this connection asked for, each with the id it asked from; cleared when the socket drops. */
  private readonly subscribed = new Map<string, { from: string | null }>();
  private topicRetryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly context: TransportContext,
    private readonly options: SocketTransportOptions,
  ) {
    this.backoff = new Backoff({ initialMs: 1_000, maxMs: 30_000, random: context.random });
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  start(): void {
    if (this.socket !== null) return;
    const connect = this.options.io ?? io;
    const socket: RealtimeSocket = connect(this.context.baseUrl, {
      path: '/socket.io',
      // WebSocket first (no long-polling requests holding browser connections), polling if it cannot open.
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      // Never share a connection with another client in this page or process: each has its own user.
      forceNew: true,
      reconnectionDelay: 1_000,
      reconnectionDelayMax: 30_000,
      randomizationFactor: 0.5,
      auth: (send: (data: object) => void) => {
        void this.context.tokens.get().then(
          (token) => {
            const lastEventId = this.context.lastEventId();
            this.connectedFrom = lastEventId;
            send({ token, ...(lastEventId !== null ? { lastEventId } : {}) });
          },
          () => send({}),
        );
      },
    });
    this.socket = socket;
    this.context.connecting();

    socket.on('connect', () => {
      this.backoff.reset();
      this.context.open();
      this.scheduleRefresh();
      for (const roomId of this.rooms) void this.emit('room:join', { roomId });
      this.subscribed.clear();
      this.topicsChanged();
    });
    socket.on('disconnect', (reason) => {
      this.clearRefresh();
      this.subscribed.clear();
      if (reason === 'io client disconnect') return;
      this.context.lost(reason);
      // The server ended the socket on purpose (token expired): the stock client will not retry that.
      if (reason === 'io server disconnect') this.retryLater(true);
    });
    socket.on('connect_error', (error) => {
      this.context.lost(error.message);
      // A refused handshake is final for the stock client (`active` is false); a network error it retries itself.
      if (!socket.active) this.retryLater(error.message === 'unauthorized');
    });
    socket.on('token-expired', () => {
      void this.context.tokens.refresh().catch(() => undefined);
    });
    socket.on('reset', (payload) => {
      const position = typeof payload?.lastEventId === 'string' ? payload.lastEventId : null;
      if (typeof payload?.topic !== 'string') {
        this.context.reset(position, this.connectedFrom);
        return;
      }
      const subscription = this.subscribed.get(payload.topic);
      if (subscription && position !== null) this.context.topicResumesAfter(payload.topic, position, subscription.from);
    });
    socket.onAny((event: string, payload: unknown) => {
      if ((SOCKET_EVENTS as readonly string[]).includes(event)) this.options.onEvent(event as SocketEventName, payload);
      else if (event === 'reset' || event === 'token-expired') return;
      else if (event === 'inbox') {
        if (isInboxPayload(payload)) this.context.inbox(payload);
      }
      else if (isTopicEvent(payload) && payload.type === event) this.context.deliverTopicEvent(payload);
      else if (isNotification(payload) && payload.type === event) this.context.deliver(payload);
    });
    socket.connect();
  }

  stop(): void {
    this.clearRefresh();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.topicRetryTimer !== null) clearTimeout(this.topicRetryTimer);
    this.topicRetryTimer = null;
    this.subscribed.clear();
    const socket = this.socket;
    this.socket = null;
    socket?.removeAllListeners();
    socket?.offAny();
    socket?.disconnect();
  }

  /**
   * Emits a client event and resolves with its acknowledgement; never rejects.
   * While disconnected, socket.io buffers the emit and sends it on reconnect, or
   * it times out as `{ ok: false, error: 'timeout' }`.
   */
  async emit<E extends keyof ClientToServerEventMap>(event: E, payload: ClientToServerEventMap[E]['payload']): Promise<Ack<E>> {
    const socket = this.socket;
    if (socket === null) return { ok: false, error: 'socket.io is off' } as Ack<E>;
    try {
      const emitter = socket.timeout(this.options.ackTimeoutMs ?? 5_000) as unknown as { emitWithAck(event: string, payload: unknown): Promise<Ack<E>> };
      return await emitter.emitWithAck(event, payload);
    } catch {
      return { ok: false, error: 'timeout' } as Ack<E>;
    }
  }

  /** Fire and forget, dropped while disconnected (cursor moves: only the latest matters). */
  emitVolatile<E extends keyof ClientToServerEventMap>(event: E, payload: ClientToServerEventMap[E]['payload']): void {
    (this.socket?.volatile as unknown as { emit(event: string, payload: unknown): void } | undefined)?.emit(event, payload);
  }

  /** Joins now (if connected) and again after every reconnect. */
  join(roomId: string): Promise<Ack<'room:join'>> {
    this.rooms.add(roomId);
    return this.emit('room:join', { roomId });
  }

  leave(roomId: string): Promise<Ack<'room:leave'>> {
    this.rooms.delete(roomId);
    return this.emit('room:leave', { roomId });
  }

  /** Subscribes the topics the client follows and this socket does not, unsubscribes those it no longer follows. */
  topicsChanged(): void {
    const socket = this.socket;
    if (socket === null || !socket.connected) return; // the next connect subscribes them all
    const wanted = this.context.topics();
    const names = new Set(wanted.map(({ topic }) => topic));
    for (const topic of [...this.subscribed.keys()]) {
      if (names.has(topic)) continue;
      this.subscribed.delete(topic);
      void this.emit('topic:unsubscribe', { topic });
    }
    for (const cursor of wanted) if (!this.subscribed.has(cursor.topic)) void this.subscribe(socket, cursor);
  }

  /** `topic:subscribe` from the client's last id; the ack says where the topic continues, before its first event. */
  private async subscribe(socket: RealtimeSocket, { topic, lastEventId }: TopicCursor): Promise<void> {
    const subscription = { from: lastEventId };
    this.subscribed.set(topic, subscription);
    const ack = await this.emit('topic:subscribe', lastEventId === null ? { topic } : { topic, lastEventId });
    // Unsubscribed, subscribed again or disconnected meanwhile: this answer is about nothing current.
    if (this.subscribed.get(topic) !== subscription || socket !== this.socket) return;
    if (ack.ok) {
      if (typeof ack.lastEventId === 'string') this.context.topicResumesAfter(topic, ack.lastEventId, lastEventId);
      return;
    }
    this.subscribed.delete(topic);
    if (FINAL_TOPIC_ERRORS.has(ack.error)) this.context.topicRefused(topic, ack.error);
    else this.retryTopicsLater();
  }

  private retryTopicsLater(): void {
    this.topicRetryTimer ??= setTimeout(() => {
      this.topicRetryTimer = null;
      this.topicsChanged();
    }, TOPIC_RETRY_MS * (1 + this.context.random()));
  }

  private retryLater(freshToken: boolean): void {
    if (this.retryTimer !== null) return;
    const socket = this.socket;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (socket !== this.socket || socket === null || socket.connected) return;
      const refreshed = freshToken ? this.context.tokens.refresh() : Promise.resolve('');
      refreshed.then(
        () => socket === this.socket && socket.connect(),
        () => socket === this.socket && this.retryLater(true),
      );
    }, this.backoff.next());
  }

  /** `auth:refresh` a little before `exp` (a fifth of the remaining time, 5 s to 60 s ahead). */
  private scheduleRefresh(): void {
    this.clearRefresh();
    const expiresAt = this.context.tokens.expiresAt();
    if (expiresAt === null || !this.context.tokens.refreshable) return;
    const remaining = expiresAt - Date.now();
    const ahead = Math.min(60_000, Math.max(5_000, remaining / 5));
    const wait = Math.max(remaining - ahead, 0);
    // setTimeout cannot wait longer than about 24.8 days: wake up and measure again.
    if (wait > MAX_TIMER_MS) this.refreshTimer = setTimeout(() => this.scheduleRefresh(), MAX_TIMER_MS);
    else this.refreshTimer = setTimeout(() => void this.refresh(), wait);
  }

  private async refresh(): Promise<void> {
    this.refreshTimer = null;
    const before = this.context.tokens.current;
    let token: string;
    try {
      token = await this.context.tokens.refresh();
    } catch {
      return; // the server sends token-expired; the disconnect path retries with backoff
    }
    if (token === before || !this.socket?.connected) return;
    const ack = await this.emit('auth:refresh', { token });
    if (!ack.ok) return;
    this.scheduleRefresh();
    // The new token's `topics` claim no longer grants these: the server has stopped them.
    for (const topic of ack.unsubscribed ?? []) {
      this.subscribed.delete(topic);
      this.context.topicRefused(topic, 'forbidden');
    }
  }

  private clearRefresh(): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }
}
