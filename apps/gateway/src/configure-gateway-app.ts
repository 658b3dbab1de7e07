import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { APP_CONFIG, type AppConfig } from '@app/notifications';
import { HttpErrorFilter } from './http-error.filter';
import { RedisIoAdapter } from './realtime/redis-io.adapter';
import { createValidationPipe } from './validation.pipe';

/** JSON bodies above this are refused with 413. */
export const MAX_JSON_BODY = '1mb';

/** Everything the app needs besides its module: shared by main.ts and the end-to-end tests. */
export function configureGatewayApp(app: NestExpressApplication): void {
  app.useBodyParser('json', { limit: MAX_JSON_BODY });
  app.use(cookieParser());
  app.disable('x-powered-by');
  app.useGlobalFilters(new HttpErrorFilter());
  app.useGlobalPipes(createValidationPipe());
  app.useWebSocketAdapter(new RedisIoAdapter(app));
  const { corsOrigins } = app.get<AppConfig>(APP_CONFIG);
  if (corsOrigins.length > 0) app.enableCors({ origin: [...corsOrigins], credentials: true });
}
