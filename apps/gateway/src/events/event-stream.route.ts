import { HttpException, HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { parse as parseCookies } from 'cookie';
import { JSONCookies } from 'cookie-parser';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { APP_CONFIG, type AppConfig, NotificationFeed } from '@app/notifications';
import { readUserToken } from '../auth/read-token';
import { UserTokenVerifier } from '../auth/user-token.verifier';
import { LiveConnections, RETRY_AFTER_SECONDS } from '../connections/live-connections';
import { refusalMessage } from '../connections/refusal-message';
import { httpErrorAnswer } from '../http-error-answer';
import { parseResumeId, parseTypes, readEventsQuery } from './events.query';
import { STREAM_SECURITY_HEADERS } from './sse-connection';
import { SseConnections } from './sse-connections';

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
 * This route does what that pipeline did for it and nothing else: security
 * headers, CORS, the user token, the query, caps, and the one error shape.
 */
@Injectable()
export class EventStreamRoute {
  private readonly log = new Logger(EventStreamRoute.name);
  private readonly corsOrigins: ReadonlySet<string>;
  private readonly allowedOrigins: readonly string[];

  constructor(
    private readonly feed: NotificationFeed,
    private readonly connections: SseConnections,
    private readonly live: LiveConnections,
    private readonly verifier: UserTokenVerifier,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.corsOrigins = new Set(config.corsOrigins);
    this.allowedOrigins = config.corsOrigins;
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
    this.allowOrigin(request, response);
    try {
      await this.open(request, response);
    } catch (error) {
      this.answerError(response, error);
    }
  }

  private async open(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '';
    const queryStart = url.indexOf('?');
    const query: Record<string, unknown> = queryStart === -1 ? {} : parseQuery(url.slice(queryStart + 1));
    const cookieHeader = request.headers.cookie;
    const cookies = cookieHeader === undefined ? undefined : (JSONCookies(parseCookies(cookieHeader) as Record<string, string>) as Record<string, unknown>);
    const user = this.verifier.verify(readUserToken(request.headers, cookies, query, this.allowedOrigins));
    const { types: rawTypes, lastEventId } = readEventsQuery(query);
    const lastEventIdHeader = request.headers['last-event-id'];
    const after = parseResumeId(typeof lastEventIdHeader === 'string' ? lastEventIdHeader : undefined, lastEventId);
    const types = parseTypes(rawTypes);
    const slot = this.live.admit(user.id);
    if (typeof slot === 'string') {
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS[slot]));
      throw new HttpException(refusalMessage(slot), slot === 'draining' ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.TOO_MANY_REQUESTS);
    }
    request.socket.setTimeout(0);
    const connection = this.connections.add(response, user, slot);
    try {
      connection.attach(await this.feed.open(user.id, { after, types }, connection));
    } catch (error) {
      // Nothing was written yet: the error can still be answered with a status.
      if (!connection.isOpen) return;
      throw error;
    }
  }

  /** CORS for this simple GET, as the cors middleware answers it for the configured origins. */
  private allowOrigin(request: IncomingMessage, response: ServerResponse): void {
    if (this.corsOrigins.size === 0) return;
    response.setHeader('Vary', 'Origin');
    const origin = request.headers.origin;
    if (origin !== undefined && this.corsOrigins.has(origin)) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Access-Control-Allow-Credentials', 'true');
    }
  }

  private answerError(response: ServerResponse, error: unknown): void {
    if (response.headersSent) {
      // A stream already under way cannot change its status: just end it.
      response.end();
      return;
    }
    if (response.destroyed) return;
    const { status, body } = httpErrorAnswer(error, this.log);
    const json = JSON.stringify(body);
    response.writeHead(status, {
      ...STREAM_SECURITY_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(json),
    });
    response.end(json);
  }
}
