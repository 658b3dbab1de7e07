import { type INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { type RedisClient, RedisConnections, RedisKeys } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { corsOptions, handshakeOriginAllowed } from '../admission/origin-policy';
import { RoomChannelSubscriptions } from './room-channel-subscriptions';
import { batchWebSocketWrites } from './websocket-write-batching';

/** Largest Socket.IO message a client may send; bigger ones close its connection (engine.io's rule). */
// Room for a 4000-character message even when every character is JSON-escaped (\u0000 is 6 bytes).
export const SOCKET_MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Socket.IO over Redis pub/sub (`@socket.io/redis-adapter`): rooms, chat,
 * typing and presence reach members on every instance. Notifications do not
 * use it: they go through the notifications library's feed, which has its own
 * replay (`auth.lastEventId`), so Socket.IO's connection-state recovery (and
 * the Redis Streams adapter it needs) would only duplicate it.
 */
export class RedisIoAdapter extends IoAdapter {
  private readonly log = new Logger(RedisIoAdapter.name);
  private readonly clients: RedisClient[] = [];

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const config = this.app.get<GatewayConfig>(GATEWAY_CONFIG);
    const cors = corsOptions(config.corsOrigins);
    const connections = this.app.get(RedisConnections);
    const server: Server = super.createIOServer(port, {
      ...options,
      path: options?.path ?? '/socket.io',
      maxHttpBufferSize: SOCKET_MAX_MESSAGE_BYTES,
      ...(cors === null ? {} : { cors }),
      allowRequest: (request, callback) => callback(null, handshakeOriginAllowed(request.headers, config.corsOrigins)),
    } as ServerOptions);
    server.engine.use(engineHttpPolicy);
    batchWebSocketWrites(server.engine);
    if (config.instanceId !== null) prefixSessionIds(server.engine, config.instanceId);
    server.adapter(this.createRedisAdapter(config, connections));
    return server;
  }

  /**
   * Classic pub/sub on one server or Sentinel; on a cluster the sharded
   * adapter (SPUBLISH/SSUBSCRIBE, a channel per room), since classic PUBLISH
   * on a cluster copies every message to every node.
   */
  private createRedisAdapter(config: GatewayConfig, connections: RedisConnections): NonNullable<Parameters<Server['adapter']>[0]> {
    const cluster = config.redis.kind === 'cluster';
    // The adapter's own connections wait out a Redis outage instead of failing its subscriptions
    // (no command timeout either: the adapter fires its SUBSCRIBEs without awaiting them, and its
    // requests have their own requestsTimeout).
    const options = { maxRetriesPerRequest: null, commandTimeout: undefined };
    const publisher = connections.create('socket.io-pub', options);
    const subscriber = connections.create('socket.io-sub', options, { shardedSubscribers: true });
    for (const client of [publisher, subscriber]) client.on('error', () => undefined); // RedisConnections logs the outage
    // The adapter fires most PUBLISHes and every (un)subscribe without awaiting them; one cut off
    // by a closing or lost connection (a disconnect while reconnecting flushes them all) must not
    // become an unhandled rejection. Callers that await still see it.
    keepUnawaitedFailuresQuiet(publisher, ['publish', 'spublish']);
    keepUnawaitedFailuresQuiet(subscriber, ['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);
    this.clients.push(publisher, subscriber);
    const key = this.app.get(RedisKeys).socketIoAdapter();
    if (cluster) {
      this.app.get(RoomChannelSubscriptions).track(subscriber, key);
      return createShardedAdapter(publisher, subscriber, { channelPrefix: key, subscriptionMode: 'dynamic' });
    }
    return createAdapter(publisher, subscriber, { key, requestsTimeout: 3_000, publishOnSpecificResponseChannel: true });
  }

  /**
   * Nest's version builds an RxJS pipeline (fromEvent, mergeMap, takeUntil and
   * their subscribers) per socket and per handler, kept for the socket's life:
   * about 30 KB of a 43 KB idle socket here, measured with heap snapshots. A
   * plain listener per handler does the same work: the answer goes to the ack
   * (or, with an `event`, is emitted), an error is logged and the socket lives
   * on. Socket.IO drops the listeners with the socket.
   */
  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message as string, (...args: unknown[]) => {
        const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args);
        let answers: Observable<unknown>;
        try {
          answers = transform(callback(data, ack));
        } catch (error) {
          this.log.error(error);
          return;
        }
        answers.subscribe({
          next: (response) => {
            if (response === null || response === undefined) return;
            const { event, data: eventData } = response as { event?: string; data?: unknown };
            if (event) socket.emit(event, eventData);
            else if (!isAckHandledManually && typeof ack === 'function') ack(response);
          },
          error: (error: unknown) => this.log.error(error),
        });
      });
    }
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    // quit() would wait forever on a client that is not connected (its retries are unbounded).
    await Promise.allSettled(this.clients.filter((client) => client.status === 'ready').map((client) => client.quit()));
    for (const client of this.clients) client.disconnect();
  }
}

/** Wraps each command so that a rejection nobody awaits is not reported as unhandled. */
function keepUnawaitedFailuresQuiet(client: RedisClient, commands: readonly string[]): void {
  const methods = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const command of commands) {
    const send = methods[command].bind(client);
    methods[command] = (...args: unknown[]) => {
      const sent = send(...args);
      sent.catch(() => undefined);
      return sent;
    };
  }
}

/** The part of engine.io's server that names new sessions. */
export interface SessionIdGenerator {
  generateId(request: IncomingMessage): string | PromiseLike<string>;
}

/**
 * Names every new engine.io session `<instanceId>.<engine's own random id>`
 * (e.g. `g1.Zm9vYmFyYmF6cXV4cXV1eA`), so that a proxy can send each later
 * request of the session (`?sid=...`: long-polling GETs and POSTs, the
 * WebSocket upgrade) back to this instance without a cookie or shared state:
 * see deploy/nginx/. The `.` cannot occur in the random part (base64url), so
 * the prefix is unambiguous; the client treats the id as opaque.
 */
export function prefixSessionIds(engine: SessionIdGenerator, instanceId: string): void {
  const generate = engine.generateId.bind(engine);
  engine.generateId = async (request) => `${instanceId}.${await generate(request)}`;
}

/** Engine.IO's refusal of JSONP, in its own error shape (`code` 4 is its "Forbidden"). */
const JSONP_REFUSED = JSON.stringify({ code: 4, message: 'JSONP polling is not served: use the polling transport without `j`, or WebSocket' });

/**
 * Runs on every Engine.IO request and upgrade, before the handshake checks.
 *
 * JSONP polling (`?j=`) answers as a script that any page may include with a
 * `<script>` tag, cookies attached and no Origin, and then read: a cross-site
 * page could drive a socket as the visitor. engine.io 6 cannot turn it off,
 * so any request naming `j` is refused, with or without a session.
 *
 * `nosniff` keeps every other answer (text/plain, octet-stream) from running
 * as a script or style; CORP `same-origin` keeps no-cors loads (`<img>`,
 * `<script>`) of another site from receiving it. CORP binds no-cors requests
 * only, so CORS_ORIGINS' XHR polling and every WebSocket are untouched.
 */
function engineHttpPolicy(request: IncomingMessage, response: ServerResponse, next: (error?: Error) => void): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  if (!new URL(request.url ?? '/', 'http://engine.io').searchParams.has('j')) return next();
  response.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(JSONP_REFUSED) });
  response.end(JSONP_REFUSED);
}
