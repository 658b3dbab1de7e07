import { Inject, Injectable, Logger } from '@nestjs/common';
import cors from 'cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotificationFeed, RedisKeys } from '@app/notifications';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { EdgeAdmission } from '../admission/edge-admission';
import { corsOptions } from '../admission/origin-policy';
import { queryOf } from '../admission/query-parameters';
import { forgetRequestCredentials } from '../admission/user-credentials';
import { httpErrorAnswer } from '../http-error-answer';
import { TopicAccess } from '../topics/topic-access';
import { readEventsRequest } from './events.query';
import { STREAM_SECURITY_HEADERS } from './sse-connection';
import { SseConnections } from './sse-connections';
import { StreamSetCursor } from './stream-set-cursor';

type CorsMiddleware = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;
const NEXT = (): void => undefined;

/**
 * `GET /api/events`: the user's notifications as Server-Sent Events, served
 * straight from node:http ahead of Express and Nest's router, guard and filter.
 *
 * Why not a controller: a stream is opened once and then lives for hours, so
 * what it costs to open is paid again by every client of a reconnect storm,
 * and whatever a framework hangs on the request is held for the whole life of
 * the connection. Profiled, the Express and Nest pipeline was 150-180 µs of
 * the ~820 µs a stream open cost, and its per-request decoration (bound
 * functions, closures, descriptor arrays) a good part of an idle stream's heap.
 * This route does what that pipeline did for it and nothing else, with the
 * same code: security headers, CORS (the `cors` package, as Express runs it),
 * the admission (user token, query, cursor, caps) and the one error shape.
 */
@Injectable()
export class EventStreamRoute {
  private readonly log = new Logger(EventStreamRoute.name);
  /** Null without CORS_ORIGINS: then no CORS header is sent, as Express sends none. */
  private readonly cors: CorsMiddleware | null;

  constructor(
    private readonly feed: NotificationFeed,
    private readonly connections: SseConnections,
    private readonly admission: EdgeAdmission,
    private readonly topicAccess: TopicAccess,
    private readonly keys: RedisKeys,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    const options = corsOptions(config.corsOrigins);
    this.cors = options === null ? null : (cors(options) as CorsMiddleware);
  }

  /**
   * Whether a request is this route's, matched as Express matched the
   * controller route: GET only (preflights and other methods stay with
   * Express), path case-insensitive, one trailing slash allowed.
   */
  static matches(request: IncomingMessage): boolean {
    if (request.method !== 'GET') return false;
    const url = request.url ?? '';
    const end = url.indexOf('?');
    const path = end === -1 ? url : url.slice(0, end);
    return path.length <= 12 && /^\/api\/events\/?$/i.test(path);
  }

  /** Opens the stream, or answers the error as JSON; never rejects. */
  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // A simple GET: the cors middleware only sets headers, synchronously (preflights stay with Express).
    this.cors?.(request, response, NEXT);
    try {
      await this.open(request, response);
    } catch (error) {
      this.answerError(response, error);
    }
  }

  private async open(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const query = queryOf(request.url ?? '');
    const user = this.admission.authenticate({ headers: request.headers, queryToken: query.access_token });
    const { types, topics, resume } = readEventsRequest(query, request.headers['last-event-id']);
    this.topicAccess.assertMayFollow(user, topics);
    const slot = this.admission.admitConnection(user);
    forgetRequestCredentials(request);
    request.socket.setTimeout(0);
    const connection = this.connections.add(response, user, slot, topics);
    const opening = [this.feed.open(this.keys.userFeed(user.id), { after: resume?.user ?? null, types }, connection.sinkOf(0))];
    topics.forEach((topic, i) => {
      const after = StreamSetCursor.topicResume(resume, topic);
      opening.push(this.feed.open(this.keys.topicFeed(topic), { after, types }, connection.sinkOf(i + 1)));
    });
    const opened = await Promise.allSettled(opening);
    const subscriptions = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = opened.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed === undefined) return connection.attach(subscriptions);
    for (const subscription of subscriptions) subscription.close();
    // Nothing was written yet (not every stream started): the error can still be answered with a status.
    if (connection.isOpen) throw failed.reason;
  }

  private answerError(response: ServerResponse, error: unknown): void {
    if (response.headersSent) {
      // A stream already under way cannot change its status: just end it.
      response.end();
      return;
    }
    if (response.destroyed) return;
    const { status, body, retryAfterSeconds } = httpErrorAnswer(error, this.log);
    const json = JSON.stringify(body);
    response.writeHead(status, {
      ...STREAM_SECURITY_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(json),
      ...(retryAfterSeconds === null ? {} : { 'Retry-After': String(retryAfterSeconds) }),
    });
    response.end(json);
  }
}
