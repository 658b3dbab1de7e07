import type { ClientToServerEventMap, InboxPayload, Notification, TopicEvent } from '@app/notifications/client-events';
import { Backoff } from './backoff';
import type { ResumePosition } from './event-ids';
import { HubTopics } from './hub-topics';
import { PollingTransport, readHistoryHead } from './polling-transport';
import { type SocketEventName, SocketTransport, type SocketTransportOptions } from './socket-transport';
import { type EventSourceConstructor, SseTransport } from './sse-transport';
import type { TokenSource } from './token-source';
import type { TopicError, TopicPositions, TopicsStatus } from './topics';
import { type ChannelStatus, sleep, TRANSPORT_NAMES, type TransportContext, type TransportName } from './transport';

/** How a notification or topic event reached the client. */
export interface DeliveryMeta {
  channel: TransportName;
  /** Epoch ms when this client (the leader tab, when tabs share) received it. */
  receivedAt: number;
  /** `receivedAt` minus the event's `createdAt`: publish to delivery, give or take the clock skew. */
  latencyMs: number;
}

export type ChannelsStatus = Record<TransportName, ChannelStatus>;

export interface HubOptions {
  readonly baseUrl: string;
  readonly tokens: TokenSource;
  readonly position: ResumePosition;
  /** Where the client stands in each topic (shared with the tab, so that a new leader goes on from it). */
  readonly topicPositions: TopicPositions;
  /** Read the history's newest id before connecting, so that even the first reconnect has a position. */
  readonly startFromNow: boolean;
  readonly fetch: typeof fetch;
  readonly random: () => number;
  readonly pollIntervalMs: number;
  readonly fallbackAfterMs: number;
  readonly ackTimeoutMs: number;
  readonly EventSource?: EventSourceConstructor;
  readonly sseHeaders?: boolean;
  readonly io?: SocketTransportOptions['io'];
}

export interface HubListener {
  notification(notification: Notification, meta: DeliveryMeta): void;
  topicEvent(event: TopicEvent, meta: DeliveryMeta): void;
  topicRefused(topic: string, error: TopicError): void;
  reset(channel: TransportName): void;
  socketEvent(name: SocketEventName, payload: unknown): void;
  /** The user's read state, from whichever channel heard it (SSE and Socket.IO push every change; polling reads it each round). */
  inbox(state: InboxPayload, channel: TransportName): void;
  status(channels: ChannelsStatus, topics: TopicsStatus): void;
}

const PUSH: readonly TransportName[] = ['sse', 'socket.io'];

/**
 * The connections of one client (of the leader tab, when tabs share): the enabled
 * push channels side by side, polling only while none of them is open, one
 * position for all of them (and one per topic), and the first copy of each
 * notification or topic event wins.
 */
export class ConnectionHub {
  private readonly channels: ChannelsStatus;
  private readonly everOpened = new Set<TransportName>();
  private readonly sse: SseTransport;
  private readonly socket: SocketTransport;
  private readonly polling: PollingTransport;
  private readonly topics: HubTopics;
  private readonly watched = new Set<string>();
  private enabled = new Set<TransportName>();
  private fallbackTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private stopped = false;
  private readonly stopStart = new AbortController();
  private statusQueued = false;

  constructor(
    private readonly options: HubOptions,
    private readonly listener: HubListener,
  ) {
    this.channels = Object.fromEntries(
      TRANSPORT_NAMES.map((name) => [name, { enabled: false, state: 'off', reconnects: 0, delivered: 0, error: null } satisfies ChannelStatus]),
    ) as ChannelsStatus;
    this.sse = new SseTransport(this.context('sse'), { EventSource: options.EventSource, headers: options.sseHeaders, types: () => this.watched });
    this.socket = new SocketTransport(this.context('socket.io'), {
      io: options.io,
      ackTimeoutMs: options.ackTimeoutMs,
      onEvent: (name, payload) => listener.socketEvent(name, payload),
    });
    this.polling = new PollingTransport(this.context('polling'), { intervalMs: options.pollIntervalMs });
    this.topics = new HubTopics({
      context: this.context('polling'),
      positions: options.topicPositions,
      random: options.random,
      changed: () => {
        if (this.stopped) return;
        this.sse.topicsChanged();
        this.socket.topicsChanged();
      },
      statusChanged: () => this.queueStatus(),
      refused: (topic, error) => listener.topicRefused(topic, error),
    });
  }

  get status(): ChannelsStatus {
    return structuredClone(this.channels);
  }

  get transports(): TransportName[] {
    return TRANSPORT_NAMES.filter((name) => this.enabled.has(name));
  }

  get topicsStatus(): TopicsStatus {
    return this.topics.status;
  }

  /** True while the Socket.IO connection is up (an emit then goes out at once). */
  get socketOpen(): boolean {
    return this.socket.connected;
  }

  async start(transports: readonly TransportName[]): Promise<void> {
    this.setEnabledFlags(transports);
    for (const name of PUSH) if (this.enabled.has(name)) this.setStatus(name, { state: 'connecting' });
    // The topics followed before the start are admitted meanwhile, so that the first stream carries them
    // (not a second one), but a slow admission holds back the notifications no longer than a fallback would.
    const patience = sleep(this.options.fallbackAfterMs);
    const started = [Promise.race([this.topics.firstAttempts(), patience.done])];
    if (this.options.startFromNow && this.options.position.lastId === null) started.push(this.readStartPosition());
    await Promise.all(started);
    patience.cancel();
    if (this.stopped) return;
    this.started = true;
    this.apply();
  }

  setTransports(transports: readonly TransportName[]): void {
    this.setEnabledFlags(transports);
    if (this.started) this.apply();
  }

  /** Follows a topic on every channel; see {@link HubTopics.follow}. */
  follow(topic: string, from: string | null, retryRefused = false): void {
    this.topics.follow(topic, from, retryRefused);
  }

  unfollow(topic: string): void {
    this.topics.unfollow(topic);
  }

  /** Listens for a notification or topic event type on SSE too (Socket.IO and polling deliver every type anyway). */
  watch(type: string): void {
    this.watched.add(type);
    this.sse.watch(type);
  }

  emit<E extends keyof ClientToServerEventMap>(event: E, payload: ClientToServerEventMap[E]['payload']): Promise<ClientToServerEventMap[E]['ack']> {
    return this.socket.emit(event, payload);
  }

  emitVolatile<E extends keyof ClientToServerEventMap>(event: E, payload: ClientToServerEventMap[E]['payload']): void {
    this.socket.emitVolatile(event, payload);
  }

  join(roomId: string): Promise<ClientToServerEventMap['room:join']['ack']> {
    return this.socket.join(roomId);
  }

  leave(roomId: string): Promise<ClientToServerEventMap['room:leave']['ack']> {
    return this.socket.leave(roomId);
  }

  stop(): void {
    this.stopped = true;
    this.stopStart.abort();
    this.topics.stop();
    if (this.fallbackTimer !== null) clearTimeout(this.fallbackTimer);
    this.sse.stop();
    this.socket.stop();
    this.polling.stop();
  }

  private async readStartPosition(): Promise<void> {
    const backoff = new Backoff({ initialMs: 1_000, maxMs: 30_000, random: this.options.random });
    const context = this.context('polling');
    while (!this.stopped) {
      try {
        this.options.position.seek(await readHistoryHead(context, this.stopStart.signal));
        return;
      } catch (error) {
        if (this.stopped) return;
        for (const name of this.enabled) this.setStatus(name, { error: `reading the start position: ${error instanceof Error ? error.message : String(error)}` });
        await sleep(backoff.next()).done;
      }
    }
  }

  private setEnabledFlags(transports: readonly TransportName[]): void {
    this.enabled = new Set(transports);
    for (const name of TRANSPORT_NAMES) {
      const enabled = this.enabled.has(name);
      if (this.channels[name].enabled !== enabled) this.setStatus(name, enabled ? { enabled } : { enabled, state: 'off', error: null });
    }
  }

  private apply(): void {
    for (const name of PUSH) {
      const transport = name === 'sse' ? this.sse : this.socket;
      if (this.enabled.has(name)) transport.start();
      else transport.stop();
    }
    this.reconsiderPolling();
  }

  /** Polling runs only while no enabled push channel is open, and only after `fallbackAfterMs` without one. */
  private reconsiderPolling(): void {
    if (!this.started || this.stopped) return;
    const push = PUSH.filter((name) => this.enabled.has(name));
    const pushOpen = push.some((name) => this.channels[name].state === 'open');
    if (!this.enabled.has('polling') || pushOpen) {
      if (this.fallbackTimer !== null) clearTimeout(this.fallbackTimer);
      this.fallbackTimer = null;
      if (this.polling.running) this.polling.stop();
      if (this.enabled.has('polling')) this.setStatus('polling', { state: 'standby', error: null });
      return;
    }
    if (this.polling.running) return;
    if (push.length === 0) {
      this.polling.start();
      return;
    }
    if (this.channels.polling.state === 'off') this.setStatus('polling', { state: 'standby' });
    this.fallbackTimer ??= setTimeout(() => {
      this.fallbackTimer = null;
      this.reconsiderPolling();
      if (!this.stopped && this.enabled.has('polling') && !this.polling.running && !PUSH.some((name) => this.channels[name].state === 'open')) {
        this.polling.start();
      }
    }, this.options.fallbackAfterMs);
  }

  private context(name: TransportName): TransportContext {
    const { baseUrl, tokens, fetch, random, position } = this.options;
    // Reports of a channel that was switched off (or a polling loop that was parked) are stale.
    const live = () => !this.stopped && this.enabled.has(name) && (name !== 'polling' || this.polling.running);
    return {
      baseUrl,
      tokens,
      fetch,
      random,
      lastEventId: () => position.lastId,
      deliver: (notification) => this.deliver(notification, name),
      reset: (resumeAt, from) => {
        if (resumeAt !== null) position.restart(resumeAt, from);
        this.listener.reset(name);
      },
      topics: () => this.topics.live(),
      deliverTopicEvent: (event) => this.deliverTopicEvent(event, name),
      topicResumesAfter: (topic, resumeAt, from) => {
        if (this.topics.isLive(topic)) this.options.topicPositions.get(topic)?.restart(resumeAt, from);
      },
      // A refusal holds whichever channel heard it, even one switched off since.
      topicRefused: (topic, error) => this.topics.refuse(topic, error),
      checkTopics: () => this.topics.recheck(),
      inbox: (state) => {
        if (live()) this.listener.inbox(state, name);
      },
      connecting: () => {
        if (live()) this.setStatus(name, { state: this.everOpened.has(name) ? 'reconnecting' : 'connecting' });
      },
      open: () => {
        if (!live()) return;
        if (this.everOpened.has(name)) this.channels[name].reconnects++;
        this.everOpened.add(name);
        this.setStatus(name, { state: 'open', error: null });
        if (name !== 'polling') this.reconsiderPolling();
      },
      lost: (reason) => {
        if (!live()) return;
        this.setStatus(name, { state: 'reconnecting', error: reason });
        if (name !== 'polling') this.reconsiderPolling();
      },
    };
  }

  private deliver(notification: Notification, channel: TransportName): void {
    if (this.stopped || !this.options.position.accept(notification.id)) return;
    this.listener.notification(notification, this.delivered(channel, notification.createdAt));
  }

  /** Only topics the hub follows, each event once: the first copy moves the topic's position. */
  private deliverTopicEvent(event: TopicEvent, channel: TransportName): void {
    if (this.stopped || !this.topics.isLive(event.topic) || !this.options.topicPositions.get(event.topic)?.accept(event.id)) return;
    this.listener.topicEvent(event, this.delivered(channel, event.createdAt));
  }

  private delivered(channel: TransportName, createdAt: string): DeliveryMeta {
    const receivedAt = Date.now();
    this.channels[channel].delivered++;
    this.queueStatus();
    return { channel, receivedAt, latencyMs: receivedAt - Date.parse(createdAt) };
  }

  private setStatus(name: TransportName, patch: Partial<ChannelStatus>): void {
    Object.assign(this.channels[name], patch);
    this.queueStatus();
  }

  /** One status report per tick, however many channels changed in it. */
  private queueStatus(): void {
    if (this.statusQueued) return;
    this.statusQueued = true;
    queueMicrotask(() => {
      this.statusQueued = false;
      if (!this.stopped) this.listener.status(this.status, this.topics.status);
    });
  }
}
