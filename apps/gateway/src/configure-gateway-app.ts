import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config';
import { corsOptions } from './admission/origin-policy';
import { serveOpenApiDocs } from './docs/openapi';
import { EventStreamRoute } from './events/event-stream.route';
import { HttpErrorFilter } from './http-error.filter';
import { isAdminPath } from './jobs/queue-dashboard.middleware';
import { jsonBodiesOnly } from './json-only.middleware';
import { RedisIoAdapter } from './realtime/redis-io.adapter';
import { createValidationPipe } from './validation.pipe';

/** JSON bodies above this are refused with 413. */
export const MAX_JSON_BODY = '1mb';

/**
 * Security headers on every route Express serves (the event stream sets its
 * own: STREAM_SECURITY_HEADERS). Helmet's defaults, with a CSP that lets
 * the same-origin demo page and Bull Board run (scripts only from 'self';
 * Bull Board's Google Fonts stylesheet is covered by the default `https:` in
 * style-src and font-src) and Socket.IO connect back to this origin ('self'
 * covers ws:/wss: of the same host in CSP 3). No upgrade-insecure-requests: the
 * gateway is often reached over plain HTTP (dev, or behind a TLS proxy), where
 * it would make browsers rewrite the page's own requests to https.
 */
const SECURITY_HEADERS = helmet({
  contentSecurityPolicy: {
    directives: {
      'connect-src': ["'self'"],
      'upgrade-insecure-requests': null,
    },
  },
});

/**
 * `GET /api/events` goes to {@link EventStreamRoute} before Express sees it;
 * everything else (Socket.IO, which wraps this listener later, takes its own
 * path first) goes to Express.
 */
function routeEventStreamFirst(app: NestExpressApplication): void {
  const server = app.getHttpServer() as Server;
  const route = app.get(EventStreamRoute);
  const express = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (EventStreamRoute.matches(request)) void route.serve(request, response);
    else for (const listener of express) listener(request, response);
  });
}

/** Everything the app needs besides its module: shared by main.ts and the end-to-end tests. */
export function configureGatewayApp(app: NestExpressApplication): void {
  routeEventStreamFirst(app);
  app.use(SECURITY_HEADERS);
  // Before Nest's own parsers, which it adds at init (urlencoded among them).
  app.use(jsonBodiesOnly);
  app.useBodyParser('json', { limit: MAX_JSON_BODY });
  app.disable('x-powered-by');
  app.useGlobalFilters(new HttpErrorFilter());
  app.useGlobalPipes(createValidationPipe());
  app.useWebSocketAdapter(new RedisIoAdapter(app));
  const cors = corsOptions(app.get<GatewayConfig>(GATEWAY_CONFIG).corsOrigins);
  if (cors !== null) {
    // Bull Board is for operators in a browser tab of its own, never for another origin's script:
    // `origin: false` makes the cors middleware add nothing, preflights included.
    app.enableCors((request, callback) => callback(null, isAdminPath(request) ? { origin: false } : cors));
  }
  // After the security headers and CORS, which apply to the docs as to every route.
  serveOpenApiDocs(app);
}
