import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { DeliveryProbe, RedisConnections } from '@app/notifications';
import { type GatewayConfig, loadGatewayConfig } from '../../apps/gateway/src/config/gateway-config';
import { configureGatewayApp } from '../../apps/gateway/src/configure-gateway-app';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { uniquePrefix } from './prefix';
import { deletePrefix, testRedisUrl } from './redis';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!';
export const TEST_API_KEY = 'test-internal-api-key';
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

export interface TestGateway {
  app: NestExpressApplication;
  config: GatewayConfig;
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Closes the app; deletes the prefix's keys unless another gateway still shares it. */
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  /** Variables on top of the test defaults (port 0, loopback, a fresh prefix, known secrets). */
  env?: Record<string, string>;
  /** Share a prefix with another gateway (scale-out); the caller then deletes its keys. */
  sharedPrefix?: string;
}

/** Boots the real gateway module with @nestjs/testing on a free port against the real Redis. */
export async function startGateway(options: StartGatewayOptions = {}): Promise<TestGateway> {
  const prefix = options.sharedPrefix ?? uniquePrefix();
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    INTERNAL_API_KEY: TEST_API_KEY,
    ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_EMBEDDED: 'false',
    ...options.env,
  });
  const moduleRef = await Test.createTestingModule({ imports: [GatewayModule.forRoot(config)] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: ['error'] });
  configureGatewayApp(app);
  await app.listen(0, '127.0.0.1');
  await untilReady(app);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    config,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      if (!options.sharedPrefix) await deletePrefix(prefix);
    },
  };
}

/**
 * Returns once the gateway would pass a load balancer's readiness check: its
 * subscriptions deliver (`/health` 200). Start-up waits up to 3 s for that and
 * then serves 503 until it is so, which a busy machine can take longer to
 * reach; a test's first stream must not race it. A gateway whose Redis is away
 * (as some tests want) is returned at once.
 */
async function untilReady(app: NestExpressApplication): Promise<void> {
  const probe = app.get(DeliveryProbe);
  const redis = app.get(RedisConnections);
  const deadline = Date.now() + 15_000;
  while (!probe.current.delivering && redis.command.status === 'ready') {
    if (Date.now() > deadline) throw new Error(`the gateway's live delivery did not work within 15 s: ${probe.current.failure}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
