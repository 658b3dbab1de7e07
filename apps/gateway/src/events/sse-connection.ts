import type { ServerResponse } from 'node:http';
import type { DeliveryStats, FeedSink, FeedSubscription, InboxState, NotificationEnvelope, ResetReason } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { onTokenExpiry } from '../auth/token-expiry';
import {
  eventFrame,
  HEARTBEAT_FRAME,
  idLine,
  inboxFrame,
  notificationFrame,
  openingFrame,
  resetFrame,
  retryFrame,
  TOKEN_EXPIRED_FRAME,
} from './sse-frames';
import { StreamSetCursor } from './stream-set-cursor';

/**
 * Unsent bytes a client may have queued in this process before it is cut off.
 * Node buffers what the kernel will not take; past this bound the client is
 * not reading, and it resumes with Last-Event-ID once it reconnects.
 */
export const SSE_MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * The event stream is never a document: CSP, framing, referrer and the other
 * document headers do nothing on it, and every header is held for the life of
 * the connection. It keeps the three that bind any response, with helmet's
 * values: CORP withholds it from other sites' `<img>` and `<script>` loads
 * (no-cors only: CORS_ORIGINS' EventSource is a CORS request, untouched).
 */
export const STREAM_SECURITY_HEADERS = {
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

/**
 * Streams written to in the current tick, corked until it ends: the Redis
 * subscriber hands over every message of one read in one tick, so under load
 * a stream gets its frames of that read in one writev instead of one write
 * (one syscall, 8-11 µs here) per frame. One nextTick for all streams.
 */
const corkedThisTick: SseConnection[] = [];

function uncorkAll(): void {
  for (let i = 0; i < corkedThisTick.length; i++) corkedThisTick[i].uncork();
  corkedThisTick.length = 0;
}

export interface SseConnectionOptions {
  readonly retryMs: number;
  readonly stats: DeliveryStats;
  readonly onClose: (connection: SseConnection) => void;
}

/**
 * One SSE client: frames what its feeds give it, owns its back-pressure
 * (bounded buffer, then cut off) and its end (token expiry, shutdown,
 * disconnect). It frees its feed subscriptions and timers once the response
 * closes.
 *
 * Without topics it is the sink of the user's feed, and each event's `id:` is
 * the notification id, so one frame serves every connection of the user. With
 * topics each stream has a sink of its own ({@link sinkOf}), the `id:` is the
 * connection's cursor over all of them, and only that line is written per
 * connection before the event's shared bytes. Nothing is written before every
 * stream has started: the opening `id:` must say where each one stands.
 */
export class SseConnection implements FeedSink {
  private subscriptions: FeedSubscription[] = [];
  private readonly cancelExpiry: () => void;
  private readonly cursor: StreamSetCursor | null;
  /** Streams that have not started yet. */
  private unstarted: number;
  /** With topics, what the feeds gave before every stream started, in order; null once written. */
  private early: Array<() => void> | null;
  private resumeOnStart: Array<() => void> = [];
  /** The read state given before the stream was written to: it goes first, right after the opening. */
  private earlyInbox: InboxState | null = null;
  private started = false;
  private closed = false;
  private corked = false;

  constructor(
    private readonly response: ServerResponse,
    readonly user: AuthenticatedUser,
    private readonly options: SseConnectionOptions,
    private readonly topics: readonly string[] = [],
  ) {
    this.cursor = topics.length > 0 ? new StreamSetCursor(topics) : null;
    this.unstarted = 1 + topics.length;
    this.early = this.cursor === null ? null : [];
    if (response.destroyed) {
      this.closed = true;
      this.cancelExpiry = () => undefined;
      return;
    }
    response.once('close', () => this.release());
    this.cancelExpiry = onTokenExpiry(user.expiresAt, () => this.end(TOKEN_EXPIRED_FRAME));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** The sink of stream `index`: 0 the user's notifications, then the topics in the order given. */
  sinkOf(index: number): FeedSink {
    return this.cursor === null ? this : new StreamSetSink(this, index, index === 0 ? null : this.topics[index - 1]);
  }

  /** Hands over the feed subscriptions; closes them at once if the client already left. */
  attach(subscriptions: FeedSubscription[]): void {
    if (this.closed) for (const subscription of subscriptions) subscription.close();
    else this.subscriptions = subscriptions;
  }

  start(position: string): void {
    if (this.closed || this.started) return;
    this.writeHead();
    this.write(openingFrame(this.options.retryMs, position));
    this.writeEarlyInbox();
  }

  inbox(state: InboxState): void {
    if (!this.started || this.early !== null) this.earlyInbox = state;
    else this.write(inboxFrame(state));
  }

  reset(reason: ResetReason, position: string): void {
    this.write(resetFrame(reason, position));
  }

  notification(envelope: NotificationEnvelope, live: boolean): boolean {
    if (!this.write(envelope.encode(notificationFrame))) return true;
    return this.delivered(envelope, live);
  }

  whenWritable(resume: () => void): void {
    if (this.closed) return;
    if (this.early !== null) this.resumeOnStart.push(resume);
    else if (this.response.writableNeedDrain) this.response.once('drain', resume);
    else queueMicrotask(resume);
  }

  fail(): void {
    this.end(null);
  }

  /** @internal Stream `index` of a connection with topics starts after `position`. */
  startStream(index: number, position: string): void {
    this.cursor?.set(index, position);
    if (--this.unstarted > 0 || this.closed) return;
    this.writeHead();
    this.write(openingFrame(this.options.retryMs, String(this.cursor)));
    this.writeEarlyInbox();
    const early = this.early ?? [];
    this.early = null;
    for (const send of early) send();
    const resumes = this.resumeOnStart;
    this.resumeOnStart = [];
    for (const resume of resumes) resume();
  }

  /** @internal A reset of stream `index` (`topic` null: the user's own). */
  resetStream(index: number, topic: string | null, reason: ResetReason, position: string): void {
    if (this.early !== null) {
      this.early.push(() => this.resetStream(index, topic, reason, position));
      return;
    }
    this.cursor?.set(index, position);
    this.write(resetFrame(reason, String(this.cursor), topic));
  }

  /** @internal An event of stream `index`: its `id:` is the connection's cursor, the rest is shared. */
  streamEvent(index: number, envelope: NotificationEnvelope, live: boolean): boolean {
    if (this.early !== null) {
      this.early.push(() => this.streamEvent(index, envelope, live));
      return false;
    }
    this.cursor?.set(index, envelope.id);
    if (!this.write(idLine(String(this.cursor)))) return true;
    this.response.write(envelope.encode(eventFrame));
    return this.delivered(envelope, live);
  }

  heartbeat(): void {
    this.write(HEARTBEAT_FRAME);
  }

  /** Ends the stream gracefully with a last `retry:`, so the client comes back after `retryMs`. */
  endWithRetry(retryMs: number): void {
    this.end(retryFrame(retryMs));
  }

  /** Ends this tick's batch (see {@link corkedThisTick}). */
  uncork(): void {
    this.corked = false;
    if (!this.response.destroyed) this.response.uncork();
  }

  /** The read state given before the opening goes right after it, before any reset or replay. */
  private writeEarlyInbox(): void {
    if (this.earlyInbox !== null) this.write(inboxFrame(this.earlyInbox));
    this.earlyInbox = null;
  }

  private writeHead(): void {
    this.started = true;
    // No TCP keep-alive: the heartbeat keeps the stream from ever being idle, so the kernel's probes
    // (after 2 h idle by default) would never be sent, and the setsockopt cost 15 µs of every open.
    this.response.socket?.setNoDelay(true);
    this.response.writeHead(200, {
      ...STREAM_SECURITY_HEADERS,
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
  }

  /** Counts a written event; false when the feed should read no more history until the response drains. */
  private delivered(envelope: NotificationEnvelope, live: boolean): boolean {
    if (live) this.options.stats.recordDelivery(envelope.publishedAtMs, Date.now());
    else this.options.stats.delivered++;
    // Past the response's high-water mark: the feed reads no more history until it drains.
    return !this.response.writableNeedDrain;
  }

  private write(frame: Buffer): boolean {
    if (this.closed || !this.started) return false;
    if (this.response.writableLength > SSE_MAX_BUFFERED_BYTES) {
      // Too slow: drop it rather than let its backlog grow this process.
      this.response.destroy();
      this.release();
      return false;
    }
    if (!this.corked) {
      this.corked = true;
      this.response.cork();
      if (corkedThisTick.push(this) === 1) process.nextTick(uncorkAll);
    }
    this.response.write(frame);
    return true;
  }

  private end(lastFrame: Buffer | null): void {
    if (this.closed) return;
    if (lastFrame !== null) this.write(lastFrame);
    this.response.end();
    this.release();
  }

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelExpiry();
    for (const subscription of this.subscriptions) subscription.close();
    this.subscriptions = [];
    this.early = null;
    this.resumeOnStart = [];
    this.options.onClose(this);
  }
}

/** The sink of one stream of a connection that carries topics. */
class StreamSetSink implements FeedSink {
  constructor(
    private readonly connection: SseConnection,
    private readonly index: number,
    private readonly topic: string | null,
  ) {}

  start(position: string): void {
    this.connection.startStream(this.index, position);
  }

  reset(reason: ResetReason, position: string): void {
    this.connection.resetStream(this.index, this.topic, reason, position);
  }

  notification(envelope: NotificationEnvelope, live: boolean): boolean {
    return this.connection.streamEvent(this.index, envelope, live);
  }

  whenWritable(resume: () => void): void {
    this.connection.whenWritable(resume);
  }

  inbox(state: InboxState): void {
    this.connection.inbox(state);
  }

  fail(): void {
    this.connection.fail();
  }
}
