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
import type { ExtendedError } from 'socket.io';
import {
  CHANNELS,
  CLIENT_EVENTS,
  type FeedSubscription,
  type DeliveryStats,
  InvalidInputError,
  isRedisUnavailable,
  type MessageReceivedData,
  NOTIFICATION_TYPES,
  NotificationFeed,
  NotificationService,
  RealtimeMetrics,
  RedisKeys,
  SERVER_EVENTS,
} from '@app/notifications';
import { EdgeAdmission } from '../admission/edge-admission';
import { cursorFromField } from '../admission/resume-cursor';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { UserTokenVerifier } from '../auth/user-token.verifier';
import { ConnectionRefusedError } from '../connections/connection-refused.error';
import type { ConnectionSlot } from '../connections/live-connections';
import { DirectChatLimiter } from './direct-chat.limiter';
import {
  type Ack,
  type AckOf,
  type AckRefusal,
  AuthRefreshRequest,
  DirectChatRequest,
  type RealtimeServer,
  type RealtimeSocket,
  RoomRequest,
  validatePayload,
} from './realtime.dto';
import { dropHandshakeCredentials, type HandshakeWithCredentials, releaseOpeningRequest } from './handshake-credentials';
import { RoomMembership } from './room-membership';
import { RoomTraffic } from './room-traffic';
import { personalRoom } from './rooms';
import { SocketFeedSink } from './socket-feed.sink';
import { SocketSession } from './socket-session';
import { SocketInbox } from './socket-inbox';
import { SocketTopics } from './socket-topics';

/** A refused handshake: the client's `connect_error`, `message` the reason and `data` the details. */
function connectError(message: string, data: Record<string, unknown>): ExtendedError {
  return Object.assign(new Error(message), { data });
}

const RATE_LIMITED: AckRefusal = { ok: false, error: 'rate_limited' };

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
  private readonly openFeeds = new WeakMap<RealtimeSocket, { sink: SocketFeedSink; subscription: FeedSubscription }>();
  private readonly stats: DeliveryStats;

  /** Also how the demo feed speaks in its room. */
  @WebSocketServer()
  readonly server!: RealtimeServer;

  constructor(
    private readonly admission: EdgeAdmission,
    private readonly verifier: UserTokenVerifier,
    private readonly feed: NotificationFeed,
    private readonly notifications: NotificationService,
    private readonly directLimits: DirectChatLimiter,
    private readonly rooms: RoomMembership,
    private readonly traffic: RoomTraffic,
    private readonly topics: SocketTopics,
    private readonly inbox: SocketInbox,
    private readonly keys: RedisKeys,
    metrics: RealtimeMetrics,
  ) {
    this.stats = metrics.channel(CHANNELS.socketio);
  }

  afterInit(server: RealtimeServer): void {
    this.rooms.attach(server);
    server.use((socket, next) => this.admit(socket, next));
  }

  /** The handshake: the admission every channel takes, answered as `connect_error` (see docs/api.md, Connecting). */
  private admit(socket: RealtimeSocket, next: (error?: ExtendedError) => void): void {
    const auth = socket.handshake.auth as Record<string, unknown>;
    let user: AuthenticatedUser;
    try {
      user = this.admission.authenticate({ headers: socket.handshake.headers, authToken: auth.token });
    } catch {
      return next(connectError('unauthorized', { code: 'UNAUTHORIZED' }));
    }
    let after: string | null;
    try {
      after = cursorFromField(auth.lastEventId, 'lastEventId');
    } catch (error) {
      const { field, message } = error as InvalidInputError;
      return next(connectError('bad_cursor', { code: 'BAD_CURSOR', field, message }));
    }
    let slot: ConnectionSlot;
    try {
      slot = this.admission.admitConnection(user);
    } catch (error) {
      if (!(error instanceof ConnectionRefusedError)) throw error;
      const { refusal, message, retryAfterSeconds } = error;
      // Draining: close the transport, as the drain does. A stock client retries that by itself (through
      // the balancer, elsewhere), where it would give up for good on a connect_error.
      if (refusal === 'draining') return socket.conn.close();
      return next(connectError('too_many_connections', { code: 'TOO_MANY_CONNECTIONS', message, retryAfterMs: retryAfterSeconds * 1000 }));
    }
    // The transport's close is the one event every admitted socket ends with, connected or not.
    socket.conn.once('close', () => slot.release());
    // Closing the transport (never disconnect()) makes stock clients reconnect by themselves, elsewhere.
    slot.onDrain(() => socket.conn.close());
    socket.data = { user };
    // Read and verified: from here on the handshake is socket data that the adapter may ship to other instances.
    dropHandshakeCredentials(socket.handshake as HandshakeWithCredentials);
    releaseOpeningRequest(socket.conn as unknown as { request: unknown });
    // The feed is live before the client hears `connect`, as an SSE stream is before its headers:
    // a notification published right after `connect` is never lost to a fresh client.
    const sink = new SocketFeedSink(socket, this.stats);
    this.feed.open(this.keys.userFeed(user.id), { after }, sink).then(
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
  }

  async handleConnection(socket: RealtimeSocket): Promise<void> {
    const { user } = socket.data;
    const session = new SocketSession(socket, user, this.traffic.sendCursor(socket), this.expire);
    // The rate limit runs before Nest's dispatch: an event over it costs a counter and an ack, not a handler call.
    socket.use((packet, next) => {
      if (packet[0] === CLIENT_EVENTS.cursorMove) return this.traffic.limitCursor(socket, session, packet, next);
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
    this.rooms.watch(socket, session);
    await socket.join(personalRoom(user.id));
  }

  handleDisconnect(socket: RealtimeSocket): void {
    this.sessions.get(socket.id)?.close();
    this.sessions.delete(socket.id);
    this.stats.connections = this.sessions.size;
  }

  @SubscribeMessage(CLIENT_EVENTS.roomJoin)
  joinRoom(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<Ack> {
    return this.handle(socket, async (session) => {
      const request = validatePayload(RoomRequest, payload);
      return request.ok ? this.rooms.join(socket, session, request.value.roomId) : request.ack;
    });
  }

  @SubscribeMessage(CLIENT_EVENTS.roomLeave)
  leaveRoom(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<AckOf<'room:leave'>> {
    return this.handle(socket, async (session) => {
      const request = validatePayload(RoomRequest, payload);
      return request.ok ? this.rooms.leave(socket, session, request.value.roomId) : request.ack;
    });
  }

  @SubscribeMessage(CLIENT_EVENTS.chat)
  chat(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<Ack> {
    return this.handle(socket, async (session) => {
      const direct = typeof payload === 'object' && payload !== null && 'recipientId' in payload;
      return direct ? this.directChat(session, payload) : this.traffic.chat(socket, session, payload);
    });
  }

  @SubscribeMessage(CLIENT_EVENTS.typing)
  typing(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<AckOf<'typing'>> {
    return this.handle(socket, async (session) => this.traffic.typing(socket, session, payload));
  }

  @SubscribeMessage(CLIENT_EVENTS.cursorMove)
  cursorMove(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<AckOf<'cursor-move'>> {
    return this.handle(socket, async (session) => this.traffic.cursorMove(socket, session, payload));
  }

  @SubscribeMessage(CLIENT_EVENTS.authRefresh)
  refresh(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<AckOf<'auth:refresh'>> {
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
      socket.data.user = user;
      const left = await this.rooms.regranted(socket, session);
      const unsubscribed = this.topics.regranted(session);
      return {
        ok: true,
        expiresAt: user.expiresAt === null ? null : new Date(user.expiresAt).toISOString(),
        ...(left.length > 0 ? { left } : {}),
        ...(unsubscribed.length > 0 ? { unsubscribed } : {}),
      };
    });
  }

  @SubscribeMessage(CLIENT_EVENTS.topicSubscribe)
  subscribeTopic(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<AckOf<'topic:subscribe'>> {
    return this.handle(socket, (session) => this.topics.subscribe(socket, session, payload));
  }

  @SubscribeMessage(CLIENT_EVENTS.topicUnsubscribe)
  unsubscribeTopic(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<AckOf<'topic:unsubscribe'>> {
    return this.handle(socket, async (session) => this.topics.unsubscribe(session, payload));
  }

  @SubscribeMessage(CLIENT_EVENTS.inboxRead)
  markRead(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() payload: unknown): Promise<AckOf<'inbox:read'>> {
    return this.handle(socket, (session) => this.inbox.markRead(session, payload));
  }

  private async directChat(session: SocketSession, payload: unknown): Promise<AckOf<'chat'>> {
    const request = validatePayload(DirectChatRequest, payload);
    if (!request.ok) return request.ack;
    const { recipientId, content } = request.value;
    const from = session.user.id;
    // The sender's budget (all its sockets and instances) is one script in the sender's hash slot; an attempt the
    // recipient then refuses still counts. The recipient's is taken by the store, in its slot, with the message or not at all.
    if (!(await this.directLimits.takeSender(from, content))) return RATE_LIMITED;
    const id = randomUUID();
    const timestamp = new Date().toISOString();
    // Stored first: if Redis refuses, nothing is sent and the sender is told.
    const stored = await this.notifications.publishWithin(
      {
        userId: recipientId,
        type: NOTIFICATION_TYPES.messageReceived,
        data: { messageId: id, from, content, timestamp } satisfies MessageReceivedData,
      },
      this.directLimits.recipientBuckets(from, recipientId),
    );
    if (stored === null) return RATE_LIMITED;
    this.server.to(personalRoom(recipientId)).emit(SERVER_EVENTS.chat, { id, from, content, timestamp });
    return { ok: true, id };
  }

  /** Runs the handler (the rate limit ran before dispatch); whatever happens, the client gets an ack. */
  private async handle<A extends Ack>(socket: RealtimeSocket, handler: (session: SocketSession) => Promise<A>): Promise<A | AckRefusal> {
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

  private readonly expire = (session: SocketSession): void => {
    session.socket.emit(SERVER_EVENTS.tokenExpired, { reason: 'token-expired' });
    // Here the server means it: the client must come back with a fresh token.
    session.socket.disconnect(true);
  };
}
