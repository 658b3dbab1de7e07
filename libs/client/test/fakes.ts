/*
 * Stand-ins for what the client drives, for its unit specs: EventSource,
 * socket.io's `io`, fetch, Web Locks and BroadcastChannel. Each records what the
 * client did and lets the spec play the server's part.
 */
import type { io } from 'socket.io-client';
import { ResumePosition } from '../src/event-ids';
import type { EventSourceLike } from '../src/sse-transport';
import type { ChannelLike, LockManagerLike, TabSharing } from '../src/tab-leader';
import { TokenSource } from '../src/token-source';
import { topicKey } from '../src/topic-cursor';
import { TopicPositions } from '../src/topics';
import type { TransportContext } from '../src/transport';

export class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  onopen: ((event: Event) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;
  readonly listeners = new Map<string, Set<(event: MessageEvent) => unknown>>();

  constructor(
    readonly url: string,
    readonly init?: { fetch?: (url: string | URL, init: { headers: Record<string, string> }) => Promise<unknown> },
  ) {
    FakeEventSource.instances.push(this);
  }

  static get last(): FakeEventSource {
    const source = FakeEventSource.instances.at(-1);
    if (!source) throw new Error('no EventSource was created');
    return source;
  }

  get closed(): boolean {
    return this.readyState === 2;
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  addEventListener(type: string, listener: (event: MessageEvent) => unknown): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  close(): void {
    this.readyState = 2;
  }

  /** The server answered 200 with an event stream. */
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  /** An event as the server frames it. */
  emit(type: string, data: unknown, id?: string): void {
    const event = { data: typeof data === 'string' ? data : JSON.stringify(data), lastEventId: id ?? '' } as MessageEvent;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  /** The stream dropped: the EventSource retries by itself. */
  drop(): void {
    this.readyState = 0;
    this.onerror?.(new Event('error'));
  }

  /** The EventSource gave up (an HTTP error): `code` is what the `eventsource` package reports. */
  fail(code?: number): void {
    this.readyState = 2;
    this.onerror?.(Object.assign(new Event('error'), code === undefined ? {} : { code }));
  }
}

type Listener = (...args: unknown[]) => void;

export class FakeSocket {
  connected = false;
  active = false;
  connectCalls = 0;
  readonly emitted: Array<[string, unknown]> = [];
  readonly volatileEmitted: Array<[string, unknown]> = [];
  /** The acknowledgement the "server" gives each emit. */
  ack: (event: string, payload: unknown) => unknown = () => ({ ok: true });
  private readonly handlers = new Map<string, Set<Listener>>();
  private readonly anyHandlers = new Set<Listener>();

  constructor(
    readonly url: string,
    readonly options: { auth: (send: (data: object) => void) => void } & Record<string, unknown>,
  ) {}

  on(event: string, listener: Listener): this {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  onAny(listener: Listener): this {
    this.anyHandlers.add(listener);
    return this;
  }

  offAny(): this {
    this.anyHandlers.clear();
    return this;
  }

  removeAllListeners(): this {
    this.handlers.clear();
    return this;
  }

  connect(): this {
    this.connectCalls++;
    this.active = true;
    return this;
  }

  disconnect(): this {
    this.active = false;
    this.connected = false;
    return this;
  }

  timeout(): { emitWithAck(event: string, payload: unknown): Promise<unknown> } {
    return {
      emitWithAck: async (event, payload) => {
        this.emitted.push([event, payload]);
        return this.ack(event, payload);
      },
    };
  }

  get volatile(): { emit(event: string, payload: unknown): void } {
    return { emit: (event, payload) => this.volatileEmitted.push([event, payload]) };
  }

  /** What the client's `auth` function sends with the next handshake. */
  handshake(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.options.auth((data) => resolve(data as Record<string, unknown>)));
  }

  /** The server accepted the handshake. */
  accept(): void {
    this.connected = true;
    this.active = true;
    this.fire('connect');
  }

  /** A server event, or a reserved one (`connect_error`, `disconnect`). */
  fire(event: string, ...args: unknown[]): void {
    if (event === 'disconnect') this.connected = false;
    for (const listener of this.handlers.get(event) ?? []) listener(...args);
    if (!['connect', 'connect_error', 'disconnect'].includes(event)) for (const listener of this.anyHandlers) listener(event, ...args);
  }
}

export function fakeIo(): { io: typeof io; sockets: FakeSocket[]; readonly last: FakeSocket } {
  const sockets: FakeSocket[] = [];
  const connect = (url: string, options: FakeSocket['options']) => {
    const socket = new FakeSocket(url, options);
    sockets.push(socket);
    return socket;
  };
  return {
    io: connect as unknown as typeof io,
    sockets,
    get last() {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket was created');
      return socket;
    },
  };
}

/** A fetch that answers from a handler and records the requests. */
export function fakeFetch(handler: (url: URL, init: RequestInit) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>) {
  const calls: Array<{ url: URL; init: RequestInit }> = [];
  const fetch = (async (input: string | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    calls.push({ url, init });
    const { status, body } = await handler(url, init);
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

/** Web Locks as the browser grants them: one holder per name, a queue behind it, `ifAvailable`, abortable waits. */
export class FakeLockManager implements LockManagerLike {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Array<() => void>>();

  request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown> {
    if (!this.held.has(name)) return this.hold(name, callback);
    if (options.ifAvailable) return callback(null);
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      const grant = () => resolve(this.hold(name, callback));
      queue.push(grant);
      options.signal?.addEventListener('abort', () => {
        const index = queue.indexOf(grant);
        if (index >= 0) queue.splice(index, 1);
        reject(new Error('AbortError'));
      });
    });
  }

  isHeld(name: string): boolean {
    return this.held.has(name);
  }

  private async hold(name: string, callback: (lock: unknown) => Promise<unknown>): Promise<unknown> {
    this.held.add(name);
    try {
      return await callback({ name });
    } finally {
      this.held.delete(name);
      this.queues.get(name)?.shift()?.();
    }
  }
}

/** BroadcastChannel among fake tabs: a message reaches every other open channel of the name, asynchronously and cloned. */
export class FakeBroadcastHub {
  private readonly open = new Set<{ name: string; channel: ChannelLike }>();

  channel = (name: string): ChannelLike => {
    const entry = { name, channel: null as unknown as ChannelLike };
    const channel: ChannelLike = {
      onmessage: null,
      postMessage: (message) => {
        const data = structuredClone(message);
        for (const other of this.open) {
          if (other !== entry && other.name === name) setTimeout(() => other.channel.onmessage?.({ data } as MessageEvent), 0);
        }
      },
      close: () => {
        this.open.delete(entry);
      },
    };
    entry.channel = channel;
    this.open.add(entry);
    return channel;
  };
}

/** The tab-sharing APIs of one browser profile. */
export function fakeBrowser(): TabSharing & { locks: FakeLockManager } {
  const locks = new FakeLockManager();
  const hub = new FakeBroadcastHub();
  return { locks, openChannel: hub.channel };
}

/** A user JWT the client can read (it never verifies: the server does). */
export function fakeJwt(sub: string, expiresInSeconds = 3600): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + expiresInSeconds })}.signature`;
}

export function notification(id: string, type = 'job-match', data: Record<string, unknown> = {}, userId = 'u1') {
  return { id, type, userId, data, createdAt: new Date().toISOString() };
}

export function topicEvent(topic: string, id: string, type = 'job-posted', data: Record<string, unknown> = {}) {
  return { id, topic, type, data, createdAt: new Date().toISOString() };
}


/** Lets queued promise callbacks and zero-delay timers run (with or without fake timers). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/**
 * A transport context that records what the transport reports, with a real
 * position and token source; `follow` lists a topic as the hub would once it
 * is admitted, at `lastEventId`.
 */
export function recordingContext(options: { tokens?: TokenSource; fetch?: typeof globalThis.fetch; lastEventId?: string } = {}) {
  const reports: string[] = [];
  const delivered: Array<{ id: string; type: string }> = [];
  const topicEvents: Array<{ id: string; topic: string; type: string }> = [];
  const refused: Array<[string, string]> = [];
  const inbox: Array<{ unread: number; readUpTo: string }> = [];
  const position = new ResumePosition(options.lastEventId);
  const topicPositions = new TopicPositions();
  const followed: string[] = [];
  const keys = new Map<string, string | null>();
  let resets = 0;
  let checks = 0;
  const context: TransportContext = {
    baseUrl: 'http://gateway.test',
    tokens: options.tokens ?? new TokenSource({ token: fakeJwt('u1') }),
    fetch: options.fetch ?? fakeFetch(() => ({ status: 500 })).fetch,
    random: () => 0,
    lastEventId: () => position.lastId,
    deliver: (item) => {
      if (position.accept(item.id)) delivered.push(item);
    },
    reset: (resumeAt, from) => {
      resets++;
      if (resumeAt !== null) position.restart(resumeAt, from);
    },
    topics: () => followed.map((topic) => ({ topic, key: keys.get(topic) ?? null, lastEventId: topicPositions.lastId(topic) })),
    deliverTopicEvent: (event) => {
      if (followed.includes(event.topic) && topicPositions.of(event.topic).accept(event.id)) topicEvents.push(event);
    },
    topicResumesAfter: (topic, resumeAt, from) => topicPositions.get(topic)?.restart(resumeAt, from),
    topicRefused: (topic, error) => {
      refused.push([topic, error]);
      followed.splice(followed.indexOf(topic), 1);
    },
    checkTopics: () => checks++,
    inbox: (state) => inbox.push(state),
    connecting: () => reports.push('connecting'),
    open: () => reports.push('open'),
    lost: (reason) => reports.push(`lost: ${reason}`),
  };
  return {
    context,
    reports,
    delivered,
    position,
    topicEvents,
    topicPositions,
    refused,
    inbox,
    async follow(topic: string, lastEventId: string) {
      keys.set(topic, await topicKey(topic));
      topicPositions.of(topic, lastEventId);
      followed.push(topic);
    },
    unfollow(topic: string) {
      followed.splice(followed.indexOf(topic), 1);
      topicPositions.delete(topic);
    },
    get resets() {
      return resets;
    },
    get checks() {
      return checks;
    },
  };
}
