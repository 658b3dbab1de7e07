import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { APP_CONFIG, type AppConfig, CHANNELS, type DeliveryStats, RealtimeMetrics } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { SseConnection } from './sse-connection';

/**
 * The SSE connections of this process: one heartbeat timer for all of them
 * (not one per client), the connection gauge, and the end of every stream on
 * shutdown.
 */
@Injectable()
export class SseConnections implements BeforeApplicationShutdown {
  private readonly log = new Logger(SseConnections.name);
  private readonly open = new Set<SseConnection>();
  private readonly stats: DeliveryStats;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private draining = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: RealtimeMetrics,
  ) {
    this.stats = metrics.channel(CHANNELS.sse);
  }

  get size(): number {
    return this.open.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Tracks a new stream; it removes itself when its response closes. */
  add(response: ServerResponse, user: AuthenticatedUser): SseConnection {
    const connection = new SseConnection(response, user, {
      retryMs: this.config.sseRetryMs,
      stats: this.stats,
      onClose: this.remove,
    });
    if (connection.isOpen) {
      this.open.add(connection);
      this.stats.connections = this.open.size;
      this.heartbeatTimer ??= setInterval(this.beat, this.config.sseHeartbeatMs);
    }
    return connection;
  }

  beforeApplicationShutdown(): void {
    this.draining = true;
    if (this.open.size > 0) this.log.log(`ending ${this.open.size} SSE stream(s): clients resume elsewhere`);
    // Spread the comebacks over the retry window so the neighbours are not hit at once.
    const base = this.config.sseRetryMs;
    for (const connection of [...this.open]) connection.endWithRetry(base + Math.floor(Math.random() * (base + 1)));
  }

  private readonly beat = (): void => {
    for (const connection of this.open) connection.heartbeat();
  };

  private readonly remove = (connection: SseConnection): void => {
    this.open.delete(connection);
    this.stats.connections = this.open.size;
    if (this.open.size === 0 && this.heartbeatTimer !== null) {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = null;
    }
  };
}
