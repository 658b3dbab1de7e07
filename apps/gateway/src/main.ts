import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { loadOrExit } from '@app/notifications';
import { loadGatewayConfig } from './config/gateway-config';
import { configureGatewayApp } from './configure-gateway-app';
import { LiveConnections } from './connections/live-connections';
import { GatewayModule } from './gateway.module';

async function bootstrap(): Promise<void> {
  const config = loadOrExit(() => loadGatewayConfig(process.env));
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    logger: new ConsoleLogger({ json: true, colors: false }),
  });
  configureGatewayApp(app);
  const log = new Logger('Bootstrap');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void shutdown(app, signal, log));
  if (config.jwtSecretGenerated) {
    log.warn('JWT_SECRET is not set: using a random per-process secret. Tokens will not survive a restart or work on other instances.');
  }
  if (config.devTokens) {
    const why = config.jwtSecretGenerated ? 'JWT_SECRET is not set' : 'DEV_TOKENS=true';
    log.warn(`POST /api/dev/token is on (${why}): whoever reaches ${config.host} can sign in here as any user.`);
  }
  if (config.internalApiKey === null) {
    log.warn('INTERNAL_API_KEY is not set: internal endpoints (POST /api/notifications) answer 401.');
  }
  if (config.adminPassword === null) {
    log.warn('ADMIN_PASSWORD is not set: Bull Board at /admin/queues answers 401.');
  }
  // Nest hands listen()'s arguments on to http.Server#listen(port, host, backlog, callback), but types
  // them only up to the host; the process test checks that the accept queue is the one asked for.
  const listen = app.listen.bind(app) as unknown as (port: number, host: string, backlog: number) => Promise<unknown>;
  await listen(config.port, config.host, config.listenBacklog);
  const { port } = app.getHttpServer().address() as AddressInfo;
  log.log(`listening on http://${config.host}:${port}`);
}

/** The contract's bound: whatever is still open after this, the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 9_500;

async function shutdown(app: NestExpressApplication, signal: NodeJS.Signals, log: Logger): Promise<void> {
  log.log(`${signal}: draining`);
  const deadline = setTimeout(() => {
    log.error(`shutdown took over ${SHUTDOWN_DEADLINE_MS} ms: exiting now`);
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  // Readiness turns 503 and new connections are refused from the first line of
  // drain(); the listener closes so a proxy sends new ones to the neighbours.
  // Streams then leave in waves while the feeds still deliver; only after that
  // does app.close() stop the worker (it finishes or returns its job) and Redis.
  const drained = app.get(LiveConnections).drain();
  app.getHttpServer().close();
  await drained;
  await app.close();
  log.log('stopped');
  process.exit(0);
}

bootstrap().catch((error: unknown) => {
  // One line a supervisor shows whole (Nest has logged the detail it had); exit, since open clients would keep the process up.
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gateway failed to start: ${reason.split('\n')[0]}\n`);
  process.exit(1);
});
