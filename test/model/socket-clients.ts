import { io, type Socket } from 'socket.io-client';
import { SETTINGS } from './config';
import { type CursorVia, LogicalClient, NON_NOTIFICATION_EVENTS, pause, type Poll, readNotification, readReset, type Segment } from './client';
import type { Route } from './fleet';
import { userToken } from './fleet';

/**
 * A stock socket.io-client (websocket or polling transport) with its own
 * reconnection. `auth` is a function, as an app passes it, so that every
 * (re)connect sends the last id received; before each reconnect attempt the
 * manager's uri is pointed at a gateway that serves (a load balancer's job).
 */
export class SocketIoClient extends LogicalClient {
  readonly cursorVia: CursorVia = 'auth';
  private socket: Socket | null = null;
  private lastSeen: string | null = null;
  private route: Route | null = null;
  /** The segment whose handshake is under way (auth was asked for), until connect or connect_error. */
  private handshaking: Segment | null = null;

  open(cursor: string | null, via: CursorVia | null): void {
    this.closed = false;
    this.dead = null;
    this.openedWith = { cursor, via };
    this.lastSeen = cursor;
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
        callback({ token: userToken(this.user), ...(cursor !== null ? { lastEventId: cursor } : {}) });
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
      if (name === 'reset') {
        const reset = readReset(payload);
        // The contract: take the reset's lastEventId as the socket's position, even when it is behind.
        if (reset.position !== undefined) this.lastSeen = reset.position;
        segment.received.push(reset);
      } else if (!NON_NOTIFICATION_EVENTS.has(name)) {
        const item = readNotification(JSON.stringify(payload));
        if (item.kind === 'item') this.lastSeen = item.id;
        segment.received.push(item);
      }
    });
    socket.connect();
  }
}

/**
 * The polling fallback: `GET /api/notifications?after=<lastId>&limit=5` in a
 * loop, each answer's `lastId` the next `after`, following to the other
 * instance when its own does not answer.
 */
export class RestPollingClient extends LogicalClient {
  readonly cursorVia: CursorVia = 'after';
  private after: string | null = null;
  private running = 0;

  open(cursor: string | null, via: CursorVia | null): void {
    this.closed = false;
    this.dead = null;
    this.openedWith = { cursor, via };
    this.after = cursor;
    const run = ++this.running;
    const route = this.fleet.route(this.preferred);
    if (route) this.begin(route, cursor, via);
    void this.loop(run);
  }

  close(): void {
    this.closed = true;
    this.running++;
    if (this.current) this.finish(this.current, 'client');
  }

  resumeId(): string | null {
    return this.after;
  }

  /** The newest answer's lastId (what the checker compares with the truth). */
  get position(): string | null {
    return this.after;
  }

  private async loop(run: number): Promise<void> {
    while (run === this.running && this.dead === null) {
      const route = this.fleet.route(this.preferred);
      if (route === null) {
        await pause(50);
        continue;
      }
      this.preferred = route.index;
      const poll: Poll = { route, after: this.after, sentAt: performance.now(), answeredAt: null, status: null, items: [] };
      this.polls.push(poll);
      const query = `${this.after !== null ? `after=${encodeURIComponent(this.after)}&` : ''}limit=${SETTINGS.pollLimit}`;
      let full = false;
      try {
        const response = await fetch(`${route.url}/api/notifications?${query}`, { headers: { Authorization: `Bearer ${userToken(this.user)}` } });
        poll.status = response.status;
        const text = await response.text();
        poll.answeredAt = performance.now();
        if (response.status === 200) {
          const body = JSON.parse(text) as { items?: unknown[]; lastId?: string | null; reset?: { reason?: string } };
          poll.items = (body.items ?? []).map((item) => readNotification(JSON.stringify(item)));
          poll.lastId = body.lastId;
          if (body.reset) poll.reset = body.reset.reason ?? JSON.stringify(body.reset);
          if (typeof body.lastId === 'string') this.after = body.lastId;
          full = poll.items.length >= SETTINGS.pollLimit;
          if (this.current && this.current.establishedAt === null) this.current.establishedAt = poll.answeredAt;
        } else {
          poll.body = text.slice(0, 300);
          // 503 while an instance drains: try again; any other refusal is final (the checker judges it).
          if (response.status !== 503) this.dead = `refused ${response.status}`;
        }
      } catch (error) {
        poll.status = (error as Error).message;
        poll.answeredAt = performance.now();
      }
      if (run !== this.running) return;
      if (!full) await pause(SETTINGS.pollIntervalMs);
    }
  }
}
