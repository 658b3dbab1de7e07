import type {
  ClientToServerEventMap,
  Notification,
  NotificationDataMap,
  NotificationOf,
  ServerToClientEvents,
  SocketAck,
  TopicEvent,
} from '@app/notifications/client-events';
import { Backoff } from './backoff';
import { ClientListeners } from './client-listeners';
import { clientFetch, type ClientStatus, hubOptions, type RealtimeClientOptions, type SubscribeOptions } from './client-options';
import { type ChannelsStatus, ConnectionHub, type DeliveryMeta } from './connection-hub';
import { normalizeEventId, ResumePosition } from './event-ids';
import { type ClientInbox, Inbox } from './inbox';
import { PendingRequests } from './pending-requests';
import { SharedConnections } from './shared-connections';
import type { SocketEventName } from './socket-transport';
import type { TabMessage, TabRequest } from './tab-messages';
import { detectTabSharing, TabLeader, type TabRole } from './tab-leader';
import { TokenSource } from './token-source';
import { TopicSubscriptions } from './topic-subscriptions';
import { KNOWN_TOPIC_TYPES, TOPIC_NAME_PATTERN, TopicPositions, type TopicsStatus } from './topics';
import { sleep, TRANSPORT_NAMES, type TransportName } from './transport';

export type { ClientStatus, RealtimeClientOptions, SubscribeOptions } from './client-options';

type Ack<E extends keyof ClientToServerEventMap> = ClientToServerEventMap[E]['ack'];

/** The notification types the system publishes: listened for on SSE from the start. */
const KNOWN_TYPES = ['job-match', 'message-received'] as const satisfies readonly (keyof NotificationDataMap)[];

/**
 * One user's realtime connection: typed notifications from SSE, Socket.IO or
 * polling, topics (broadcast streams) over the same channels, chat over
 * Socket.IO, shared by the tabs of one origin. Create it with
 * {@link createRealtimeClient}.
 */
export class RealtimeClient {
  private readonly tokens: TokenSource;
  private readonly position: ResumePosition;
  private readonly baseUrl: string;
  private readonly tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  private readonly listeners = new ClientListeners();
  /** Event names SSE listens for: notification and topic event types. */
  private readonly types = new Set<string>([...KNOWN_TYPES, ...KNOWN_TOPIC_TYPES]);
  /** This tab's rooms (chat events of other rooms are not shown here). */
  private readonly rooms = new Set<string>();
  /** This tab's topic subscriptions; the positions are the client's (any tab's leader's), kept for a takeover. */
  private readonly topics = new TopicSubscriptions();
  private readonly topicPositions = new TopicPositions();
  private readonly pending: PendingRequests;
  private readonly inboxState: Inbox;
  /** Leader (or single) only: the connections, and their use on behalf of every tab. */
  private hub: ConnectionHub | null = null;
  private shared: SharedConnections | null = null;
  private leader: TabLeader | null = null;
  private state: ClientStatus;
  private closed = false;
  /** Settles once this tab knows its role: until then an emit has nowhere to go. */
  private readonly decided: Promise<void>;
  private markDecided: () => void = () => undefined;

  /** The user's unread count and read position, the same in every tab; `markRead`, `markAllRead`, `onChange`: see {@link ClientInbox}. */
  readonly inbox: ClientInbox;

  constructor(private readonly options: RealtimeClientOptions) {
    const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
    const baseUrl = options.baseUrl ?? origin;
    if (!baseUrl) throw new Error('createRealtimeClient needs baseUrl outside a browser');
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.tokens = new TokenSource(options);
    this.position = new ResumePosition(options.lastEventId);
    const transports = TRANSPORT_NAMES.filter((name) => (options.transports ?? TRANSPORT_NAMES).includes(name));
    const channels = Object.fromEntries(
      TRANSPORT_NAMES.map((name) => [name, { enabled: transports.includes(name), state: 'off', reconnects: 0, delivered: 0, error: null }]),
    ) as ChannelsStatus;
    this.state = { role: 'starting', userId: null, lastEventId: this.position.lastId, transports, channels, topics: {} };
    this.decided = new Promise((resolve) => (this.markDecided = resolve));
    this.pending = new PendingRequests((options.ackTimeoutMs ?? 5_000) + 1_000);
    this.inbox = this.inboxState = new Inbox({
      baseUrl: this.baseUrl,
      tokens: this.tokens,
      fetch: clientFetch(options),
      lastEventId: () => this.position.lastId,
      // A follower reads over REST with its own token: the leader's channels then push the change to every tab.
      socketRead: () => (this.hub?.socketOpen ? (payload) => (this.hub as ConnectionHub).emit('inbox:read', payload) : null),
      changed: () => this.shared?.postInbox(),
    });
    void this.start();
  }

  /** The current status: this tab's role, and each channel's state and counters. */
  get status(): ClientStatus {
    return structuredClone(this.state);
  }

  /** The id of the last notification delivered: keep it to resume after a page load. */
  get lastEventId(): string | null {
    return this.position.lastId;
  }

  /** The current user token (for the app's own REST calls). */
  getToken(): Promise<string> {
    return this.tokens.get();
  }

  /** Notifications of one type, with `data` typed for the known types. Returns the unsubscribe function. */
  on<T extends string>(type: T, handler: (notification: NotificationOf<T>, meta: DeliveryMeta) => void): () => void {
    this.listenFor([type]);
    return this.listeners.onType(type, handler as (notification: Notification, meta: DeliveryMeta) => void);
  }

  /**
   * Follows a topic (a broadcast stream, e.g. `jobs.new`): `handler` gets each of
   * its events once and in order per topic, whichever channel or tab has it
   * first, from now on (or after `options.lastEventId`). Every channel carries
   * it: SSE (`?topics=`, one stream for all), Socket.IO (`topic:subscribe`, again
   * after each reconnect from the last id) and polling; the tabs of the user
   * share one subscription. Topic events never reach `on()` or
   * `onNotification()`. Returns the unsubscribe function (the topic stays while
   * another subscription, of this tab or another, wants it).
   *
   * A name that is not a topic name or a `lastEventId` that is not an id
   * throws. A topic the gateway refuses (not granted: `forbidden`) is reported
   * to `options.onError` and in `status.topics`, and not asked for again.
   */
  subscribe<TData extends object = Record<string, unknown>>(
    topic: string,
    handler: (event: TopicEvent<TData>, meta: DeliveryMeta) => void,
    options: SubscribeOptions = {},
  ): () => void {
    if (typeof topic !== 'string' || !TOPIC_NAME_PATTERN.test(topic)) throw new TypeError(`subscribe: ${JSON.stringify(topic)} is not a topic name (${TOPIC_NAME_PATTERN.source})`);
    const from = options.lastEventId === undefined ? null : normalizeEventId(options.lastEventId);
    if (options.lastEventId !== undefined && from === null) throw new TypeError(`subscribe: lastEventId must be an event id like 1732190000000-0, got ${JSON.stringify(options.lastEventId)}`);
    this.listenFor(options.types ?? []);
    const subscription = this.topics.add(topic, from, handler as (event: TopicEvent, meta: DeliveryMeta) => void, options.onError);
    // Every subscribe asks, so that a new one tries a refused topic again.
    void this.whenDecided(() => (this.shared ? this.shared.follow(this.tabId, topic, from, true) : this.request({ op: 'follow', topic, lastEventId: from })));
    return () => {
      if (!subscription.remove()) return;
      void this.whenDecided(() => (this.shared ? this.shared.unfollow(this.tabId, topic) : this.request({ op: 'unfollow', topic })));
    };
  }

  /** Every notification (over SSE: the known types and those some `on()` asked for). */
  onNotification(handler: (notification: Notification, meta: DeliveryMeta) => void): () => void {
    return this.listeners.onNotification(handler);
  }

  /** Socket.IO events that are not notifications: `chat`, `typing`, `cursor-move`, `presence` (room events of this tab's rooms only). */
  onSocket<E extends SocketEventName>(event: E, handler: ServerToClientEvents[E]): () => void {
    return this.listeners.onSocket(event, handler as (payload: unknown) => void);
  }

  /** The history was trimmed past the resume point: reload state (e.g. from `GET /api/notifications`). */
  onReset(handler: (channel: TransportName) => void): () => void {
    return this.listeners.onReset(handler);
  }

  /** Called at once with the current status, then on every change. */
  onStatus(handler: (status: ClientStatus) => void): () => void {
    const unsubscribe = this.listeners.onStatus(handler);
    handler(this.status);
    return unsubscribe;
  }

  /** Sends a client event over Socket.IO and resolves with its acknowledgement (never rejects). */
  async emit<E extends keyof ClientToServerEventMap>(event: E, payload: ClientToServerEventMap[E]['payload']): Promise<Ack<E>> {
    await this.decided;
    if (this.hub) return this.hub.emit(event, payload);
    return this.request({ op: 'emit', event, payload }) as Promise<Ack<E>>;
  }

  /** Joins a chat room, now and after every reconnect. */
  async joinRoom(roomId: string): Promise<SocketAck<{ members: string[] }>> {
    this.rooms.add(roomId);
    await this.decided;
    if (this.shared) return this.shared.join(this.tabId, roomId);
    return this.request({ op: 'join', roomId }) as Promise<Ack<'room:join'>>;
  }

  async leaveRoom(roomId: string): Promise<SocketAck> {
    this.rooms.delete(roomId);
    await this.decided;
    if (this.shared) return this.shared.leave(this.tabId, roomId);
    return this.request({ op: 'leave', roomId }) as Promise<Ack<'room:leave'>>;
  }

  /** Tells the room's other members where this user's cursor is (dropped while disconnected). */
  moveCursor(roomId: string, x: number, y: number): void {
    if (this.hub) this.hub.emitVolatile('cursor-move', { roomId, x, y });
    else this.post({ kind: 'request', tabId: this.tabId, requestId: 0, request: { op: 'volatile', event: 'cursor-move', payload: { roomId, x, y } } });
  }

  /** Switches channels on or off (for every tab that shares this client's connections). */
  setTransports(transports: readonly TransportName[]): void {
    const list = TRANSPORT_NAMES.filter((name) => transports.includes(name));
    if (this.hub) this.hub.setTransports(list);
    else void this.request({ op: 'transports', transports: list });
  }

  /** Closes every connection of this tab; another tab of the user takes over the shared ones. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.markDecided();
    if (this.state.role === 'follower') this.post({ kind: 'bye', tabId: this.tabId });
    this.hub?.stop();
    this.hub = null;
    this.shared = null;
    this.leader?.stop();
    this.pending.settleAll({ ok: false, error: 'closed' });
    (globalThis as { removeEventListener?: (type: string, listener: () => void) => void }).removeEventListener?.('pagehide', this.onPageHide);
  }

  private async start(): Promise<void> {
    // The user id names the shared connection, so the first token comes before the election.
    const backoff = new Backoff({ random: this.options.random });
    for (;;) {
      try {
        await this.tokens.get();
        break;
      } catch (error) {
        this.report({ channels: this.withError(`getToken failed: ${error instanceof Error ? error.message : String(error)}`) });
        if (!(await sleep(backoff.next()).done) || this.closed) return;
      }
      if (this.closed) return;
    }
    if (this.closed) return;
    const userId = this.tokens.subject();
    const sharing = this.options.shareAcrossTabs === false || userId === null ? { locks: null, openChannel: null } : (this.options.tabSharing ?? detectTabSharing());
    this.state.userId = userId;
    this.leader = new TabLeader(`rtg-client:${this.baseUrl}:${userId}`, sharing);
    this.leader.start(
      (role) => this.becomes(role),
      (message) => this.onTabMessage(message as TabMessage),
    );
    (globalThis as { addEventListener?: (type: string, listener: () => void) => void }).addEventListener?.('pagehide', this.onPageHide);
  }

  /** SSE dispatches named events only to listeners of that name: from now on, listen for these too. */
  private listenFor(types: Iterable<string>): void {
    let added = false;
    for (const type of types) {
      if (this.types.has(type)) continue;
      this.types.add(type);
      this.hub?.watch(type);
      added = true;
    }
    if (added && this.state.role === 'follower') this.hello();
  }

  /** Runs `act` once this tab knows its role (in call order), unless the client closed meanwhile. */
  private async whenDecided(act: () => unknown): Promise<void> {
    await this.decided;
    if (!this.closed) await act();
  }

  private readonly onPageHide = (): void => {
    if (this.state.role === 'follower') this.post({ kind: 'bye', tabId: this.tabId });
  };

  private becomes(role: TabRole): void {
    if (this.closed) return;
    this.report({ role });
    if (role === 'follower') {
      this.hello();
      this.markDecided();
      return;
    }
    const hub = new ConnectionHub(
      hubOptions(this.options, { baseUrl: this.baseUrl, tokens: this.tokens, position: this.position, topicPositions: this.topicPositions }),
      {
        notification: (notification, meta) => {
          this.dispatchNotification(notification, meta);
          this.post({ kind: 'notification', notification, meta });
        },
        topicEvent: (event, meta) => {
          this.topics.dispatch(event, meta);
          this.post({ kind: 'topic-event', event, meta });
        },
        topicRefused: (topic, error) => {
          this.topics.refused(topic, error);
          this.post({ kind: 'topic-refused', topic, error });
        },
        reset: (channel) => {
          this.dispatchReset(channel);
          this.post({ kind: 'reset', channel });
        },
        socketEvent: (name, payload) => {
          this.dispatchSocketEvent(name, payload);
          this.post({ kind: 'socket-event', name, payload });
        },
        inbox: (state, channel) => this.inboxState.receive(state, channel !== 'polling'),
        status: (channels, topics) => {
          this.report({ channels, topics, transports: hub.transports, lastEventId: this.position.lastId });
          this.post({ kind: 'status', channels, topics, transports: hub.transports, lastEventId: this.position.lastId });
        },
      },
    );
    const shared = new SharedConnections(
      hub,
      (message) => this.post(message),
      () => ({ kind: 'status', channels: hub.status, topics: hub.topicsStatus, transports: hub.transports, lastEventId: this.position.lastId }),
      () => this.inboxState.state,
    );
    this.hub = hub;
    this.shared = shared;
    for (const type of this.types) hub.watch(type);
    for (const roomId of this.rooms) void shared.join(this.tabId, roomId);
    // From where this tab (or the leader before it) stands in each, else where the subscription asked.
    for (const topic of this.topics.topics()) shared.follow(this.tabId, topic, this.topics.startOf(topic), false);
    void hub.start(this.state.transports);
    // The tabs that followed the previous leader re-announce their rooms and types.
    if (role === 'leader') this.post({ kind: 'leader' });
    this.markDecided();
  }

  private onTabMessage(message: TabMessage): void {
    if (this.closed) return;
    if (this.shared) this.shared.fromFollower(message);
    else this.asFollower(message);
  }

  private asFollower(message: TabMessage): void {
    switch (message.kind) {
      case 'notification':
        if (this.position.accept(message.notification.id)) this.dispatchNotification(message.notification, message.meta);
        return;
      case 'topic-event':
        if (this.topicPositions.of(message.event.topic).accept(message.event.id)) this.topics.dispatch(message.event, message.meta);
        return;
      case 'topic-refused':
        this.topics.refused(message.topic, message.error);
        return;
      case 'socket-event':
        this.dispatchSocketEvent(message.name, message.payload);
        return;
      case 'reset':
        this.dispatchReset(message.channel);
        return;
      case 'inbox':
        this.inboxState.receive(message.state);
        return;
      case 'status':
        // Keep the leader's positions and choices: this tab continues from them if it takes over.
        if (message.lastEventId !== null) this.position.seek(message.lastEventId);
        this.followPositions(message.topics);
        this.report({ channels: message.channels, topics: message.topics, transports: message.transports, lastEventId: this.position.lastId });
        return;
      case 'answer':
        if (message.to === this.tabId) this.pending.answer(message.requestId, message.answer);
        return;
      case 'leader':
        this.hello();
        return;
      default:
        return;
    }
  }

  /** A follower mirrors the leader's topic positions, to go on from them if it takes over. */
  private followPositions(topics: TopicsStatus): void {
    this.topicPositions.retain(Object.keys(topics));
    for (const [topic, { lastEventId }] of Object.entries(topics)) if (lastEventId !== null) this.topicPositions.of(topic).seek(lastEventId);
  }

  /** A follower's request to the leader; answered over the channel, or `timeout` (e.g. while leadership moves). */
  private request(request: TabRequest): Promise<unknown> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'closed' });
    return this.pending.create((requestId) => this.post({ kind: 'request', tabId: this.tabId, requestId, request }));
  }

  private hello(): void {
    this.post({ kind: 'hello', tabId: this.tabId, rooms: [...this.rooms], types: [...this.types], topics: this.topics.topics() });
  }

  private post(message: TabMessage): void {
    this.leader?.post(message);
  }

  private dispatchNotification(notification: Notification, meta: DeliveryMeta): void {
    this.state.lastEventId = this.position.lastId;
    this.listeners.notification(notification, meta);
  }

  private dispatchSocketEvent(name: SocketEventName, payload: unknown): void {
    // Room events are for the tabs in that room; direct messages for every tab.
    const roomId = (payload as { roomId?: unknown } | null)?.roomId;
    if (typeof roomId === 'string' && !this.rooms.has(roomId)) return;
    this.listeners.socketEvent(name, payload);
  }

  private dispatchReset(channel: TransportName): void {
    this.listeners.reset(channel);
  }

  private report(patch: Partial<ClientStatus>): void {
    this.state = { ...this.state, ...patch };
    this.listeners.status(this.status);
  }

  private withError(error: string): ChannelsStatus {
    const channels = structuredClone(this.state.channels);
    for (const name of TRANSPORT_NAMES) if (channels[name].enabled) channels[name].error = error;
    return channels;
  }
}

/** Creates and starts a client; see {@link RealtimeClientOptions}. */
export function createRealtimeClient(options: RealtimeClientOptions): RealtimeClient {
  return new RealtimeClient(options);
}
