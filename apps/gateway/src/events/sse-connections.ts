import { Inject, Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { CHANNELS, type DeliveryStats, RealtimeMetrics } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import type { ConnectionSlot } from '../connections/live-connections';
import { SseConnection } from './sse-connection';

/**
 * The SSE connections of this process: one heartbeat timer for all of them
 * (not one per client), the connection gauge, and how a stream is sent away
 * when the instance drains.
 */
@Injectable()
export class SseConnections {
  private readonly open = new Set<SseConnection>();
  private readonly stats: DeliveryStats;
  private heartbeatTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    metrics: RealtimeMetrics,
  ) {
    this.stats = metrics.channel(CHANNELS.sse);
  }

  get size(): number {
    return this.open.size;
  }

  /** Tracks a new stream (carrying `topics` besides the user's own feed) in its admitted slot; both are freed when its response closes. */
  add(response: ServerResponse, user: AuthenticatedUser, slot: ConnectionSlot, topics: readonly string[] = []): SseConnection {
    const connection = new SseConnection(response, user, {
      retryMs: this.config.sseRetryMs,
      stats: this.stats,
      onClose: (closed) => {
        slot.release();
        this.remove(closed);
      },
    }, topics);
    if (!connection.isOpen) {
      slot.release();
      return connection;
    }
    this.open.add(connection);
    this.stats.connections = this.open.size;
    this.heartbeatTimer ??= setInterval(this.beat, this.config.sseHeartbeatMs);
    // Each stream gets its own retry in [retry, 2 × retry], so even one wave's comebacks are spread out.
    const base = this.config.sseRetryMs;
    slot.onDrain(() => connection.endWithRetry(base + Math.floor(Math.random() * (base + 1))));
    return connection;
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
