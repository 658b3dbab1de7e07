import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { type AppConfig, loadConfig } from '@app/notifications';
import { configureGatewayApp } from '../../apps/gateway/src/configure-gateway-app';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { uniquePrefix } from './prefix';
import { deletePrefix, testRedisUrl } from './redis';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!';
export const TEST_API_KEY = 'test-internal-api-key';
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

export interface TestGateway {
  app: NestExpressApplication;
  config: AppConfig;
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
  const config = loadConfig({
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
