import type { Socket } from 'socket.io';
import type { DeliveryStats, FeedSink, NotificationEnvelope } from '@app/notifications';

/**
 * Packets a client may have queued in this process before it is dropped: a
 * socket that far behind is not reading. Its transport is closed, so the stock
 * client reconnects and resumes with `auth.lastEventId`.
 */
export const SOCKET_MAX_QUEUED_PACKETS = 256;

/**
 * A notification as a Socket.IO "event" packet (type 2, default namespace):
 * `2["<type>",<notification JSON>]`; engine.io adds its own message prefix.
 * Built from the stored JSON without parsing it, once per notification, and
 * written as is to every socket of the user.
 */
export function socketIoEventPacket(envelope: NotificationEnvelope): string {
  return `2["${envelope.type}",${envelope.json}]`;
}

type PreEncodingClient = { _packet(packet: string, options: { preEncoded: boolean }): void };
type EngineSocket = { writeBuffer: unknown[]; close(): void };

/** Frames a socket's feed: notifications as events named by type, `reset` when history was trimmed. */
export class SocketFeedSink implements FeedSink {
  constructor(
    private readonly socket: Socket,
    private readonly stats: DeliveryStats,
  ) {}

  start(): void {
    // Socket.IO has no resume-position frame; clients pass the last id they received.
  }

  reset(): void {
    this.socket.emit('reset', { reason: 'history-truncated' });
  }

  notification(envelope: NotificationEnvelope, live: boolean): void {
    const engine = this.socket.conn as unknown as EngineSocket;
    if (engine.writeBuffer.length > SOCKET_MAX_QUEUED_PACKETS) {
      engine.close();
      return;
    }
    (this.socket.client as unknown as PreEncodingClient)._packet(envelope.encode(socketIoEventPacket), { preEncoded: true });
    if (live) this.stats.recordDelivery(envelope.publishedAtMs, Date.now());
    else this.stats.delivered++;
  }

  fail(): void {
    // Close the transport, not the socket: the client reconnects and resumes by itself.
    this.socket.conn.close();
  }
}
