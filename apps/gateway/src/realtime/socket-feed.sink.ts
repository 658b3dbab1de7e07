import WebSocket from 'ws';
import { type DeliveryStats, type FeedSink, type InboxState, inboxPayload, type NotificationEnvelope, type ResetReason, SERVER_EVENTS } from '@app/notifications';
import type { RealtimeSocket } from './realtime.dto';

/**
 * Packets a client may have queued in this process before it is dropped: a
 * socket that far behind is not reading. Its transport is closed, so the stock
 * client reconnects and resumes with `auth.lastEventId`.
 */
export const SOCKET_MAX_QUEUED_PACKETS = 256;
/**
 * Packets queued past which a socket that is catching up waits for engine.io
 * to flush them to the transport before the feed reads more history: replay
 * then goes at the speed the client reads, far from the hard bound above.
 */
export const SOCKET_SOFT_QUEUED_PACKETS = 16;

/**
 * A notification as a Socket.IO "event" packet (type 2, default namespace):
 * `2["<type>",<notification JSON>]`; engine.io adds its own message prefix.
 * Built from the stored JSON without parsing it, once per notification, and
 * written as is to every socket of the user.
 */
export function socketIoEventPacket(envelope: NotificationEnvelope): string {
  return `2["${envelope.type}",${envelope.json}]`;
}

interface FrameOptions {
  readOnly: boolean;
  mask: boolean;
  rsv1: boolean;
  opcode: number;
  fin: boolean;
}
/** ws's frame builder: untyped in @types/ws, used by socket.io-adapter for the same purpose. */
const { Sender } = WebSocket as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

interface PreEncodedEvent {
  readonly packets: string[];
  readonly options: { preEncoded: true; wsPreEncodedFrame: Buffer[] };
}

/**
 * The event packet together with its WebSocket frame, built once per
 * notification as socket.io's own broadcast builds it (socket.io-adapter's
 * `_encode`): engine.io then writes the same frame bytes to every websocket
 * instead of framing the packet again per socket. Polling transports and
 * compressed websockets ignore the frame and take the packet.
 */
export function socketIoEventFrame(envelope: NotificationEnvelope): PreEncodedEvent {
  const packet = socketIoEventPacket(envelope);
  // "4" is engine.io's message packet type; server frames are never masked.
  const wsPreEncodedFrame = Sender.frame(Buffer.from(`4${packet}`), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
  return { packets: [packet], options: { preEncoded: true, wsPreEncodedFrame } };
}

type PreEncodingClient = { _packet(packets: string[], options: PreEncodedEvent['options']): void };
type EngineSocket = { writeBuffer: unknown[]; readyState: string; close(discard?: boolean): void; once(event: 'drain', listener: () => void): void };

/**
 * Frames one feed of a socket, the user's notifications or one topic's
 * events: each as an event named by its type, `reset` when the cursor does
 * not continue.
 */
export class SocketFeedSink implements FeedSink {
  /**
   * What the feed gave before the client may hear it (the user's feed opens
   * during the handshake, a topic's before its `topic:subscribe` ack); null
   * once {@link connected}.
   */
  private early: Array<() => void> | null = [];
  private resumeEarly: (() => void) | null = null;
  private position: string | null = null;
  /** The read state given before the client could hear it: it goes first on {@link connected}. */
  private earlyInbox: InboxState | null = null;

  constructor(
    private readonly socket: RealtimeSocket,
    private readonly stats: DeliveryStats,
    /** The topic whose feed this is; null for the user's own. */
    private readonly topic: string | null = null,
  ) {}

  /** Where the feed started: the stream's own position it continues after (never a cursor it does not hold). */
  get startedAfter(): string {
    if (this.position === null) throw new Error('the feed has not started');
    return this.position;
  }

  /** The client has its `connect` (or its ack): send what came before it, in order, then write straight through. */
  connected(): void {
    const early = this.early;
    this.early = null;
    if (this.earlyInbox !== null) this.inbox(this.earlyInbox);
    this.earlyInbox = null;
    for (const send of early ?? []) send();
    const resume = this.resumeEarly;
    this.resumeEarly = null;
    resume?.();
  }

  start(position: string): void {
    // Socket.IO has no resume-position frame: a topic's ack carries it; for the user's feed clients pass the last id they received.
    this.position = position;
  }

  reset(reason: ResetReason, position: string): void {
    // Socket.IO has no `id:` line: the position the feed continues after travels in the payload.
    if (this.early !== null) this.early.push(() => this.reset(reason, position));
    else this.socket.emit(SERVER_EVENTS.reset, this.topic === null ? { reason, lastEventId: position } : { reason, lastEventId: position, topic: this.topic });
  }

  notification(envelope: NotificationEnvelope, live: boolean): boolean {
    if (this.early !== null) {
      // Live ones come in unpaced; a replay stops at the soft bound until the socket connects.
      if (this.early.length < SOCKET_MAX_QUEUED_PACKETS) this.early.push(() => this.notification(envelope, live));
      else this.fail();
      return this.early !== null && this.early.length < SOCKET_SOFT_QUEUED_PACKETS;
    }
    const engine = this.engine;
    if (engine.writeBuffer.length > SOCKET_MAX_QUEUED_PACKETS) {
      // Discard the backlog: a plain close() waits for it to drain first, which a client that
      // stopped reading never lets happen, so its slot and feed would stay until the ping timeout.
      engine.close(true);
      return true;
    }
    const event = envelope.encode(socketIoEventFrame);
    (this.socket.client as unknown as PreEncodingClient)._packet(event.packets, event.options);
    if (live) this.stats.recordDelivery(envelope.publishedAtMs, Date.now());
    else this.stats.delivered++;
    return engine.writeBuffer.length < SOCKET_SOFT_QUEUED_PACKETS;
  }

  inbox(state: InboxState): void {
    if (this.early !== null) this.earlyInbox = state;
    else this.socket.emit(SERVER_EVENTS.inbox, inboxPayload(state));
  }

  whenWritable(resume: () => void): void {
    if (this.early !== null) {
      this.resumeEarly = resume;
      return;
    }
    const engine = this.engine;
    if (engine.readyState === 'closed') return;
    // engine.io emits `drain` once it has handed its write buffer to the transport.
    if (engine.writeBuffer.length >= SOCKET_SOFT_QUEUED_PACKETS) engine.once('drain', resume);
    else queueMicrotask(resume);
  }

  fail(): void {
    // Close the transport, not the socket: the client reconnects and resumes by itself.
    this.socket.conn.close();
  }

  private get engine(): EngineSocket {
    return this.socket.conn as unknown as EngineSocket;
  }
}
