import { io, type Socket } from 'socket.io-client';
import { type CursorVia, LogicalClient, NON_NOTIFICATION_EVENTS, pause, readInbox, readNotification, readReset, type Segment, type TopicSub } from './client';
import type { Route } from './fleet';

/**
 * A stock socket.io-client (websocket or polling transport) with its own
 * reconnection. `auth` is a function, as an app passes it, so that every
 * (re)connect sends the last id received; before each reconnect attempt the
 * manager's uri is pointed at a gateway that serves (a load balancer's job).
 * Topic subscriptions belong to the socket: on every `connect` the client
 * sends `topic:subscribe` for each of its topics with the last id it has of
 * that topic (an event's id, or where an ack or a reset said it continues).
 */
export class SocketIoClient extends LogicalClient {
  readonly cursorVia: CursorVia = 'auth';
  private socket: Socket | null = null;
  private lastSeen: string | null = null;
  /** Each topic's position: what the next `topic:subscribe` sends as `lastEventId`. */
  private readonly topicLast = new Map<string, string | null>();
  private route: Route | null = null;
  /** The segment whose handshake is under way (auth was asked for), until connect or connect_error. */
  private handshaking: Segment | null = null;

  open(cursor: string | null, via: CursorVia | null, topicCursors?: ReadonlyMap<string, string | null>): void {
    this.closed = false;
    this.dead = null;
    this.openedWith = { cursor, via };
    this.lastSeen = cursor;
    for (const topic of this.topics) if (topicCursors || !this.topicLast.has(topic)) this.topicLast.set(topic, topicCursors?.get(topic) ?? null);
    this.socket?.close();
    this.create();
  }

  close(): void {
    this.closed = true;
    if (this.current) this.finish(this.current, 'client');
    this.socket?.disconnect();
  }

  resumeId(): string | null {
    return this.lastSeen;
  }

  private create(): void {
    this.route = this.fleet.route(this.preferred);
    const socket = io(this.route?.url ?? 'http://127.0.0.1:9', {
      path: '/socket.io',
      transports: [this.kind === 'websocket' ? 'websocket' : 'polling'],
      auth: (callback) => {
        const cursor = this.lastSeen;
        const route = this.route ?? { index: -1, generation: -1, url: '' };
        this.handshaking = this.begin(route, cursor, 'auth');
        callback({ token: this.token(), ...(cursor !== null ? { lastEventId: cursor } : {}) });
      },
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      timeout: 3_000,
      forceNew: true,
      autoConnect: false,
    });
    this.socket = socket;
    const manager = socket.io as unknown as { uri: string; on(event: 'reconnect_attempt', listener: () => void): void };
    manager.on('reconnect_attempt', () => {
      const route = this.fleet.route(this.preferred);
      if (route === null) return;
      this.route = route;
      this.preferred = route.index;
      manager.uri = route.url;
    });
    socket.on('connect', () => {
      if (this.handshaking) this.handshaking.establishedAt = performance.now();
      this.handshaking = null;
      const segment = this.current;
      if (segment) for (const topic of this.topics) this.subscribe(socket, segment, topic);
    });
    socket.on('connect_error', (error: Error) => {
      const segment = this.handshaking;
      this.handshaking = null;
      if (segment) {
        segment.refused = error.message;
        this.finish(segment, 'error', error.message);
      }
      if (this.closed || socket.active) return; // a transport failure: the manager retries by itself
      // Refused by the server's middleware: stock clients stop here; draining and caps are worth another try.
      if (error.message === 'shutting_down' || error.message === 'too_many_connections') {
        void pause(100).then(() => {
          if (!this.closed && this.socket === socket) socket.connect();
        });
      } else {
        this.dead = `connect_error ${error.message}`;
      }
    });
    socket.on('disconnect', (reason: string) => {
      const segment = this.current;
      if (!segment) return;
      // Closed before `connect`: the gateway sent the client away during the handshake (it will retry).
      if (segment === this.handshaking) {
        this.handshaking = null;
        segment.refused = `${reason} during the handshake`;
      }
      const end = reason === 'io client disconnect' ? 'client' : reason === 'io server disconnect' ? 'server-disconnect' : 'server';
      this.finish(segment, end, reason);
    });
    socket.onAny((name: string, payload: unknown) => {
      const segment = this.current;
      if (!segment) return;
      if (name === 'inbox') {
        segment.inbox.push(readInbox(payload, segment.received.length));
      } else if (name === 'reset') {
        const reset = readReset(payload);
        // The contract: take the reset's lastEventId as the stream's position, even when it is behind.
        if (reset.position !== undefined) this.setPosition(reset.topic ?? null, reset.position);
        segment.received.push(reset);
      } else if (!NON_NOTIFICATION_EVENTS.has(name)) {
        const item = readNotification(JSON.stringify(payload));
        if (item.kind === 'item') this.setPosition(item.topic ? item.stream : null, item.id);
        segment.received.push(item);
      }
    });
    socket.connect();
  }

  /**
   * Emits on this client's socket, as a tab of the user would (`inbox:read`): the route of its connection and the
   * ack (an Error when none came in `timeoutMs`); null when the socket is not connected.
   */
  emitWithAck(event: string, payload: unknown, timeoutMs: number): { route: Route; ack: Promise<unknown> } | null {
    const socket = this.socket;
    const segment = this.current;
    if (this.closed || socket === null || !socket.connected || !segment || segment.establishedAt === null || segment.end !== null) return null;
    return { route: segment.route, ack: socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<unknown> };
  }

  private setPosition(topic: string | null, id: string): void {
    if (topic === null) this.lastSeen = id;
    else if (this.topics.includes(topic)) this.topicLast.set(topic, id);
  }

  /**
   * `topic:subscribe` from the topic's position; after `bad_cursor`, again without one (live from the newest), and
   * after a transient failure (`unavailable`, no ack), again a little later, as an app would; `forbidden` is final.
   */
  private subscribe(socket: Socket, segment: Segment, topic: string): void {
    if (this.closed || !socket.connected || this.current !== segment) return;
    const cursor = this.topicLast.get(topic) ?? null;
    const sub: TopicSub = { topic, cursor, sentAt: performance.now(), from: segment.received.length, ackIndex: null, ackedAt: null, ack: null };
    segment.subs.push(sub);
    const refused = (error: string) => {
      sub.ack = { ok: false, error };
      if (error === 'forbidden') return;
      if (error === 'bad_cursor') this.topicLast.set(topic, null);
      void pause(error === 'bad_cursor' ? 0 : 100).then(() => this.subscribe(socket, segment, topic));
    };
    // The callback form: it runs as the ack packet is read, before any packet read after it (a promise's `then` would not).
    socket.timeout(3_000).emit('topic:subscribe', { topic, ...(cursor !== null ? { lastEventId: cursor } : {}) }, (error: Error | null, ack?: { ok?: boolean; lastEventId?: unknown; error?: unknown }) => {
      if (error) return refused(`no ack: ${error.message}`);
      sub.ackedAt = performance.now();
      sub.ackIndex = segment.received.length;
      if (ack?.ok !== true || typeof ack.lastEventId !== 'string') return refused(typeof ack?.error === 'string' ? ack.error : `no error in ${JSON.stringify(ack)}`);
      sub.ack = { ok: true, lastEventId: ack.lastEventId };
      // Where the topic continues after, unless an event of it came first (itself a finding).
      const early = segment.received.slice(sub.from).some((event) => event.kind !== 'bad' && (event.kind === 'item' ? event.stream : event.topic) === topic);
      if (!early) this.topicLast.set(topic, ack.lastEventId);
    });
  }
}
