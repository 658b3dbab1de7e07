import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import type { Server, Socket } from 'socket.io';
import {
  CHANNELS,
  type FeedSubscription,
  type DeliveryStats,
  isRedisUnavailable,
  type MessageReceivedData,
  NOTIFICATION_TYPES,
  NotificationFeed,
  NotificationService,
  parseNotificationId,
  RealtimeMetrics,
  RedisConnections,
} from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { UserTokenVerifier } from '../auth/user-token.verifier';
import { LiveConnections, RETRY_AFTER_SECONDS } from '../connections/live-connections';
import { refusalMessage } from '../connections/refusal-message';
import {
  type Ack,
  AuthRefreshRequest,
  CursorMoveRequest,
  DirectChatRequest,
  isCursorMovePayload,
  RoomChatRequest,
  RoomRequest,
  TypingRequest,
  validatePayload,
} from './realtime.dto';
import { RoomPresence } from './room-presence';
import { chatRoom, personalRoom } from './rooms';
import { SocketFeedSink } from './socket-feed.sink';
import { type CursorMove, SocketSession } from './socket-session';
import { readSocketToken } from './socket-token';

/** What other instances may read (fetchSockets serializes it): plain data only. */
type SocketData = { user: AuthenticatedUser };

const RATE_LIMITED: Ack = { ok: false, error: 'rate_limited' };
const NOT_A_MEMBER: Ack = { ok: false, error: 'not_a_member' };

/**
 * The Socket.IO channel: authenticates the handshake, puts each socket in its
 * user's personal room, streams the user's notifications through the same feed
 * as SSE, and carries the two-way events (rooms, chat, typing, cursors). Every
 * handler answers through its ack and never throws, so a bad payload never
 * costs the client its connection.
 */
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly log = new Logger(RealtimeGateway.name);
  private readonly sessions = new Map<string, SocketSession>();
  /** Feeds opened during the handshake, until the socket connects (a socket that never does is dropped with its transport). */
  private readonly openFeeds = new WeakMap<Socket, { sink: SocketFeedSink; subscription: FeedSubscription }>();
  private readonly stats: DeliveryStats;

  @WebSocketServer()
  private server!: Server;

  constructor(
    private readonly verifier: UserTokenVerifier,
    private readonly feed: NotificationFeed,
    private readonly notifications: NotificationService,
    private readonly presence: RoomPresence,
    private readonly redis: RedisConnections,
    private readonly live: LiveConnections,
    metrics: RealtimeMetrics,
  ) {
    this.stats = metrics.channel(CHANNELS.socketio);
  }

  afterInit(server: Server): void {
    server.use((socket, next) => {
      let user: AuthenticatedUser;
      try {
        user = this.verifier.verify(readSocketToken(socket));
      } catch {
        return next(Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHORIZED' } }));
      }
      const resumeId = (socket.handshake.auth as Record<string, unknown> | undefined)?.lastEventId;
      let after: string | null = null;
      if (resumeId !== undefined && resumeId !== null && resumeId !== '') {
        // Only a string: a JSON number cannot carry a 64-bit id exactly.
        after = typeof resumeId === 'string' ? parseNotificationId(resumeId.trim()) : null;
        if (after === null) {
          return next(Object.assign(new Error('bad_cursor'), { data: { code: 'BAD_CURSOR', field: 'lastEventId', message: 'lastEventId must be a notification id like 1732190000000-0' } }));
        }
      }
      const slot = this.live.admit(user.id);
      if (typeof slot === 'string') {
        const refusal = slot === 'draining' ? 'shutting_down' : 'too_many_connections';
        return next(Object.assign(new Error(refusal), { data: { code: refusal.toUpperCase(), message: refusalMessage(slot), retryAfterMs: RETRY_AFTER_SECONDS[slot] * 1000 } }));
      }
      // The transport's close is the one event every admitted socket ends with, connected or not.
      socket.conn.once('close', () => slot.release());
      // Closing the transport (never disconnect()) makes stock clients reconnect by themselves, elsewhere.
      slot.onDrain(() => socket.conn.close());
      (socket.data as SocketData) = { user };
      // The feed is live before the client hears `connect`, as an SSE stream is before its headers:
      // a notification published right after `connect` is never lost to a fresh client.
      const sink = new SocketFeedSink(socket, this.stats);
      this.feed.open(user.id, { after }, sink).then(
        (subscription) => {
          // The client may have gone while the feed opened: its close event has fired already.
          if (socket.conn.readyState === 'closed') return subscription.close();
          socket.conn.once('close', () => subscription.close());
          this.openFeeds.set(socket, { sink, subscription });
          next();
        },
        (error: unknown) => {
          this.log.warn(`feed unavailable for a socket: ${(error as Error).message}`);
          // Closing the transport (not a connect_error) makes the stock client retry.
          socket.conn.close();
        },
      );
    });
  }

  async handleConnection(socket: Socket): Promise<void> {
    const { user } = socket.data as SocketData;
    const session = new SocketSession(socket, user, this.sendCursor(socket), this.expire);
    // The rate limit runs before Nest's dispatch: an event over it costs a counter and an ack, not a handler call.
    socket.use((packet, next) => {
      if (packet[0] === 'cursor-move') return this.limitCursor(socket, session, packet, next);
      if (session.limiter.take()) return next();
      const ack = packet[packet.length - 1];
      if (typeof ack === 'function') ack(RATE_LIMITED);
    });
    const feed = this.openFeeds.get(socket);
    if (feed) {
      this.openFeeds.delete(socket);
      session.attach(feed.subscription);
      feed.sink.connected();
    }
    this.sessions.set(socket.id, session);
    this.stats.connections = this.sessions.size;
    const rooms = new Set<string>();
    socket.on('disconnecting', () => {
      for (const room of socket.rooms) if (room.startsWith('room:')) rooms.add(room.slice('room:'.length));
    });
    socket.once('disconnect', () => {
      // While draining, the adapter's Redis clients are closing: leave presence to the instance the user comes back to.
      if (this.live.isDraining) return;
      for (const roomId of rooms) void this.presence.left(this.server, roomId, session.user.id).catch(() => undefined);
    });
    await socket.join(personalRoom(user.id));
  }

  handleDisconnect(socket: Socket): void {
    this.sessions.get(socket.id)?.close();
    this.sessions.delete(socket.id);
    this.stats.connections = this.sessions.size;
  }

  @SubscribeMessage('room:join')
  joinRoom(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<Ack> {
    return this.handle(socket, async (session) => {
      const request = validatePayload(RoomRequest, payload);
      if (!request.ok) return request.ack;
      const { roomId } = request.value;
      // Room membership lives in the adapter's Redis: without it the answer would hang, so say so now.
      this.redis.assertConnected({ subscriber: false });
      const rejoin = socket.rooms.has(chatRoom(roomId));
      await socket.join(chatRoom(roomId));
      const sockets = await this.server.in(chatRoom(roomId)).fetchSockets();
      if (!rejoin) await this.presence.joined(this.server, roomId, session.user.id, socket.id, sockets as never);
      const members = [...new Set(sockets.map((member) => (member.data as SocketData).user.id))];
      return { ok: true, members };
    });
  }

  @SubscribeMessage('room:leave')
  leaveRoom(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<Ack> {
    return this.handle(socket, async (session) => {
      const request = validatePayload(RoomRequest, payload);
      if (!request.ok) return request.ack;
      const { roomId } = request.value;
      if (!socket.rooms.has(chatRoom(roomId))) return NOT_A_MEMBER;
      this.redis.assertConnected({ subscriber: false });
      await socket.leave(chatRoom(roomId));
      session.cursors.forget(roomId);
      await this.presence.left(this.server, roomId, session.user.id);
      return { ok: true };
    });
  }

  @SubscribeMessage('chat')
  chat(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<Ack> {
    return this.handle(socket, async (session) => {
      const direct = typeof payload === 'object' && payload !== null && 'recipientId' in payload;
      return direct ? this.directChat(session, payload) : this.roomChat(socket, session, payload);
    });
  }

  @SubscribeMessage('typing')
  typing(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<Ack> {
    return this.handle(socket, async (session) => {
      const request = validatePayload(TypingRequest, payload);
      if (!request.ok) return request.ack;
      const { roomId, isTyping } = request.value;
      if (!socket.rooms.has(chatRoom(roomId))) return NOT_A_MEMBER;
      socket.to(chatRoom(roomId)).emit('typing', { roomId, userId: session.user.id, isTyping });
      return { ok: true };
    });
  }

  @SubscribeMessage('cursor-move')
  cursorMove(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<Ack> {
    return this.handle(socket, async (session) => {
      const { ack, move } = this.acceptCursor(socket, session, payload);
      if (move !== null) session.cursors.move(move.roomId, move);
      return ack;
    });
  }

  /** The one check of a cursor move, for the handler and for a deferred move: its ack, and the move if accepted. */
  private acceptCursor(socket: Socket, session: SocketSession, payload: unknown): { ack: Ack; move: CursorMove | null } {
    const request = validatePayload(CursorMoveRequest, payload);
    if (!request.ok) return { ack: request.ack, move: null };
    const { roomId, x, y } = request.value;
    if (!socket.rooms.has(chatRoom(roomId))) return { ack: NOT_A_MEMBER, move: null };
    return { ack: { ok: true }, move: { roomId, userId: session.user.id, x, y } };
  }

  /**
   * Latest wins under any burst. A well-formed move to a room of the socket that
   * is over the cursor bucket is not dropped: it becomes the room's one deferred
   * move, checked and sent at the coalescer's next slot and acked with the
   * result, while the deferred move it replaces is acked `rate_limited`. A flood
   * therefore costs a shape check and a slot per packet, and at most one full
   * check per room per interval, never a Nest dispatch. A move the bucket lets
   * through drops the room's deferred one here, in arrival order, because its
   * handler runs later than this.
   */
  private limitCursor(socket: Socket, session: SocketSession, packet: unknown[], next: () => void): void {
    const last = packet[packet.length - 1];
    const ack = typeof last === 'function' ? (last as (answer: Ack) => void) : null;
    // The handler gets the payload only when it is the one argument before the ack (see mapPayload).
    const payload = packet.length === (ack ? 3 : 2) ? packet[1] : undefined;
    const roomId = isCursorMovePayload(payload) && socket.rooms.has(chatRoom(payload.roomId)) ? payload.roomId : null;
    if (session.cursorLimiter.take()) {
      if (roomId !== null) session.cursors.supersede(roomId);
      return next();
    }
    if (roomId === null) {
      ack?.(RATE_LIMITED);
      return;
    }
    session.cursors.defer(roomId, {
      resolve: () => {
        let accepted: { ack: Ack; move: CursorMove | null };
        try {
          accepted = this.acceptCursor(socket, session, payload);
        } catch (error) {
          // On the coalescer's timer a throw would take the process down.
          this.log.error(`deferred cursor-move failed: ${(error as Error).stack ?? String(error)}`);
          accepted = { ack: { ok: false, error: 'internal_error' }, move: null };
        }
        ack?.(accepted.ack);
        return accepted.move;
      },
      drop: () => ack?.(RATE_LIMITED),
    });
  }

  @SubscribeMessage('auth:refresh')
  refresh(@ConnectedSocket() socket: Socket, @MessageBody() payload: unknown): Promise<Ack> {
    return this.handle(socket, async (session) => {
      const request = validatePayload(AuthRefreshRequest, payload);
      if (!request.ok) return request.ack;
      let user: AuthenticatedUser;
      try {
        user = this.verifier.verify(request.value.token);
      } catch {
        return { ok: false, error: 'unauthorized' };
      }
      if (user.id !== session.user.id) return { ok: false, error: 'unauthorized' };
      session.refresh(user);
      (socket.data as SocketData).user = user;
      return { ok: true, expiresAt: user.expiresAt === null ? null : new Date(user.expiresAt).toISOString() };
    });
  }

  private async roomChat(socket: Socket, session: SocketSession, payload: unknown): Promise<Ack> {
    const request = validatePayload(RoomChatRequest, payload);
    if (!request.ok) return request.ack;
    const { roomId, content } = request.value;
    if (!socket.rooms.has(chatRoom(roomId))) return NOT_A_MEMBER;
    const message = { id: randomUUID(), roomId, from: session.user.id, content, timestamp: new Date().toISOString() };
    socket.to(chatRoom(roomId)).emit('chat', message);
    return { ok: true, id: message.id };
  }

  private async directChat(session: SocketSession, payload: unknown): Promise<Ack> {
    const request = validatePayload(DirectChatRequest, payload);
    if (!request.ok) return request.ack;
    const { recipientId, content } = request.value;
    const id = randomUUID();
    const from = session.user.id;
    const timestamp = new Date().toISOString();
    // Stored first: if Redis refuses, nothing is sent and the sender is told.
    await this.notifications.publish({
      userId: recipientId,
      type: NOTIFICATION_TYPES.messageReceived,
      data: { messageId: id, from, content, timestamp } satisfies MessageReceivedData,
    });
    this.server.to(personalRoom(recipientId)).emit('chat', { id, from, content, timestamp });
    return { ok: true, id };
  }

  /** Runs the handler (the rate limit ran before dispatch); whatever happens, the client gets an ack. */
  private async handle(socket: Socket, handler: (session: SocketSession) => Promise<Ack>): Promise<Ack> {
    const session = this.sessions.get(socket.id);
    if (!session) return { ok: false, error: 'not_connected' };
    try {
      return await handler(session);
    } catch (error) {
      if (isRedisUnavailable(error)) return { ok: false, error: 'unavailable' };
      this.log.error(`socket event failed: ${(error as Error).stack ?? String(error)}`);
      return { ok: false, error: 'internal_error' };
    }
  }

  private sendCursor(socket: Socket): (roomId: string, move: CursorMove) => void {
    return (roomId, move) => socket.to(chatRoom(roomId)).volatile.emit('cursor-move', move);
  }

  private readonly expire = (session: SocketSession): void => {
    session.socket.emit('token-expired', { reason: 'token-expired' });
    // Here the server means it: the client must come back with a fresh token.
    session.socket.disconnect(true);
  };
}
