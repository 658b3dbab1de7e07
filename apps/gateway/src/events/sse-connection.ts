import type { ServerResponse } from 'node:http';
import type { DeliveryStats, FeedSink, FeedSubscription, NotificationEnvelope, ResetReason } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { onTokenExpiry } from '../auth/token-expiry';
import {
  HEARTBEAT_FRAME,
  notificationFrame,
  openingFrame,
  resetFrame,
  retryFrame,
  TOKEN_EXPIRED_FRAME,
} from './sse-frames';

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
 * One SSE client: frames what the feed gives it, owns its back-pressure
 * (bounded buffer, then cut off) and its end (token expiry, shutdown,
 * disconnect). It frees its feed subscription and timers once the response closes.
 */
export class SseConnection implements FeedSink {
  private subscription: FeedSubscription | null = null;
  private readonly cancelExpiry: () => void;
  private started = false;
  private closed = false;
  private corked = false;

  constructor(
    private readonly response: ServerResponse,
    readonly user: AuthenticatedUser,
    private readonly options: SseConnectionOptions,
  ) {
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

  /** Hands over the feed subscription; closes it at once if the client already left. */
  attach(subscription: FeedSubscription): void {
    if (this.closed) subscription.close();
    else this.subscription = subscription;
  }

  start(position: string): void {
    if (this.closed || this.started) return;
    this.started = true;
    const socket = this.response.socket;
    socket?.setNoDelay(true);
    socket?.setKeepAlive(true);
    this.response.writeHead(200, {
      ...STREAM_SECURITY_HEADERS,
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    this.write(openingFrame(this.options.retryMs, position));
  }

  reset(reason: ResetReason, position: string): void {
    this.write(resetFrame(reason, position));
  }

  notification(envelope: NotificationEnvelope, live: boolean): boolean {
    if (!this.write(envelope.encode(notificationFrame))) return true;
    if (live) this.options.stats.recordDelivery(envelope.publishedAtMs, Date.now());
    else this.options.stats.delivered++;
    // Past the response's high-water mark: the feed reads no more history until it drains.
    return !this.response.writableNeedDrain;
  }

  whenWritable(resume: () => void): void {
    if (this.closed) return;
    if (this.response.writableNeedDrain) this.response.once('drain', resume);
    else queueMicrotask(resume);
  }

  fail(): void {
    this.end(null);
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
    this.subscription?.close();
    this.subscription = null;
    this.options.onClose(this);
  }
}
