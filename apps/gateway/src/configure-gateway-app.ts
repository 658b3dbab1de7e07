import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { APP_CONFIG, type AppConfig } from '@app/notifications';
import { HttpErrorFilter } from './http-error.filter';
import { jsonBodiesOnly } from './json-only.middleware';
import { RedisIoAdapter } from './realtime/redis-io.adapter';
import { createValidationPipe } from './validation.pipe';

const EVENT_STREAM_PATH = '/api/events';

/** JSON bodies above this are refused with 413. */
export const MAX_JSON_BODY = '1mb';

/**
 * Security headers on every HTTP route. Helmet's defaults, with a CSP that lets
 * the same-origin demo page and Bull Board run (scripts only from 'self';
 * Bull Board's Google Fonts stylesheet is covered by the default `https:` in
 * style-src and font-src) and Socket.IO connect back to this origin ('self'
 * covers ws:/wss: of the same host in CSP 3). No upgrade-insecure-requests: the
 * gateway is often reached over plain HTTP (dev, or behind a TLS proxy), where
 * it would make browsers rewrite the page's own requests to https. Helmet only
 * sets headers, so the SSE stream stays unbuffered and uncompressed.
 */
const DOCUMENT_SECURITY_HEADERS = helmet({
  contentSecurityPolicy: {
    directives: {
      'connect-src': ["'self'"],
      'upgrade-insecure-requests': null,
    },
  },
});

/**
 * The event stream is never a document: CSP, framing, opener, referrer and the
 * other document headers do nothing on it, and every header is held in memory
 * for the life of the connection (ten of them were about a fifth of an idle
 * stream's heap). It keeps those that bind any response: nosniff and HSTS.
 */
const STREAM_SECURITY_HEADERS = helmet({
  contentSecurityPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
});

function securityHeaders(request: Request, response: Response, next: NextFunction): void {
  if (request.path === EVENT_STREAM_PATH) STREAM_SECURITY_HEADERS(request, response, next);
  else DOCUMENT_SECURITY_HEADERS(request, response, next);
}

/** Everything the app needs besides its module: shared by main.ts and the end-to-end tests. */
export function configureGatewayApp(app: NestExpressApplication): void {
  app.use(securityHeaders);
  // Before Nest's own parsers, which it adds at init (urlencoded among them).
  app.use(jsonBodiesOnly);
  app.useBodyParser('json', { limit: MAX_JSON_BODY });
  app.use(cookieParser());
  app.disable('x-powered-by');
  app.useGlobalFilters(new HttpErrorFilter());
  app.useGlobalPipes(createValidationPipe());
  app.useWebSocketAdapter(new RedisIoAdapter(app));
  const { corsOrigins } = app.get<AppConfig>(APP_CONFIG);
  if (corsOrigins.length > 0) app.enableCors({ origin: [...corsOrigins], credentials: true });
}
