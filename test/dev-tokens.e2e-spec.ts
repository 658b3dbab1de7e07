import request from 'supertest';
import { type GatewayProcess, gatewayEnv, runGateway, runNpmStart } from './support/gateway-process';
import { randomUserId, uniquePrefix } from './support/prefix';
import { deletePrefix, testRedisUrl } from './support/redis';
import { startGateway, TEST_API_KEY, TEST_JWT_SECRET, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';

/*
 * Issue 13, finding 2: `POST /api/dev/token` exists only outside production and
 * only where its tokens can do no harm: signed with a per-process secret that
 * nothing else trusts, or with the real secret by explicit opt-in
 * (DEV_TOKENS=true). A staging host with a real JWT_SECRET answers 404.
 */
describe('dev tokens', () => {
  const mint = (url: string, userId = randomUserId()) => request(url).post('/api/dev/token').send({ userId });
  const notificationsWith = (url: string, token: string) => request(url).get('/api/notifications').set('Authorization', `Bearer ${token}`);

  describe('with a real JWT_SECRET', () => {
    it.each([['test'], ['staging'], ['prod'], ['']])('NODE_ENV=%j without DEV_TOKENS → 404', async (nodeEnv) => {
      const gateway = await startGateway({ env: { NODE_ENV: nodeEnv } });
      try {
        const response = await mint(gateway.url);
        expect(response.status).toBe(404);
        expect(response.body).toMatchObject({ statusCode: 404 });
      } finally {
        await gateway.close();
      }
    });

    it('DEV_TOKENS=false → 404', async () => {
      const gateway = await startGateway({ env: { NODE_ENV: 'staging', DEV_TOKENS: 'false' } });
      try {
        expect((await mint(gateway.url)).status).toBe(404);
      } finally {
        await gateway.close();
      }
    });

    it('DEV_TOKENS=true outside production → tokens signed with JWT_SECRET', async () => {
      const gateway = await startGateway({ env: { NODE_ENV: 'staging', DEV_TOKENS: 'true' } });
      try {
        const issued = await mint(gateway.url);
        expect(issued.status).toBe(200);
        expect((await notificationsWith(gateway.url, issued.body.token)).status).toBe(200);
      } finally {
        await gateway.close();
      }
    });

    it('DEV_TOKENS=true with NODE_ENV=production → refused at start-up', async () => {
      const outcome = await startGateway({ env: { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DEV_TOKENS: 'true' } }).then(
        async (gateway) => {
          await gateway.close();
          return 'started';
        },
        (error: Error) => error.message,
      );
      expect(outcome).toMatch(/^DEV_TOKENS: [^\n]+$/);
    });
  });

  describe('without JWT_SECRET (a per-process secret)', () => {
    let gateway: TestGateway;
    let trusting: TestGateway;

    beforeAll(async () => {
      gateway = await startGateway({ env: { NODE_ENV: '', JWT_SECRET: '' } });
      // Same deployment, the real secret: it must not accept the other's dev tokens.
      trusting = await startGateway({ sharedPrefix: gateway.config.redisKeyPrefix });
    });

    afterAll(async () => {
      await trusting.close();
      await gateway.close();
    });

    it('mints tokens that work on this process only', async () => {
      const issued = await mint(gateway.url);
      expect(issued.status).toBe(200);
      expect((await notificationsWith(gateway.url, issued.body.token)).status).toBe(200);
      expect((await notificationsWith(trusting.url, issued.body.token)).status).toBe(401);
    });
  });

  describe('the processes', () => {
    const prefix = uniquePrefix();
    const running: GatewayProcess[] = [];
    const start = (run: () => GatewayProcess) => {
      const gateway = run();
      running.push(gateway);
      return gateway;
    };

    afterEach(async () => {
      for (const gateway of running.splice(0)) {
        if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGTERM');
        await gateway.exited;
      }
    });

    afterAll(async () => {
      await deletePrefix(prefix);
    });

    it('main.ts: DEV_TOKENS=true with NODE_ENV=production stops with one line naming DEV_TOKENS', async () => {
      const gateway = start(() => runGateway({ ...gatewayEnv(prefix), JWT_SECRET: 'x'.repeat(40), NODE_ENV: 'production', DEV_TOKENS: 'true' }));
      expect(await gateway.exited).toBe(1);
      expect(gateway.stderr.trim()).toMatch(/^invalid configuration: DEV_TOKENS: [^\n]+$/);
    });

    it('main.ts: NODE_ENV=staging with JWT_SECRET → no dev tokens', async () => {
      const gateway = start(() => runGateway({ ...gatewayEnv(prefix), NODE_ENV: 'staging' }));
      const url = `http://127.0.0.1:${await gateway.waitForListening()}`;
      expect((await mint(url)).status).toBe(404);
    });

    it('npm start with nothing set: says so in one line, a random internal key, dev tokens, the demo feed, loopback only', async () => {
      const gateway = start(() => runNpmStart({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, PORT: '0', WORKER_EMBEDDED: 'false' }));
      const port = await gateway.waitForListening(30_000);
      expect(gateway.listeningHost()).toBe('127.0.0.1');
      const notices = gateway.stderr.split('\n').filter((line) => line.startsWith('npm start:'));
      expect(notices).toHaveLength(1);
      const key = /INTERNAL_API_KEY=(\S+)/.exec(notices[0])?.[1];
      expect(key).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(notices[0]).toContain('DEMO_FEED=true');

      const url = `http://127.0.0.1:${port}`;
      const userId = randomUserId();
      const issued = await mint(url, userId);
      expect(issued.status).toBe(200);
      // Signed with the process's own secret, not one a real deployment could share.
      expect((await notificationsWith(url, userToken(userId))).status).toBe(401);
      const publish = (apiKey: string) => request(url).post('/api/notifications').set('X-Api-Key', apiKey).send({ userId, type: 'job-match', data: {} });
      expect((await publish('dev-key')).status).toBe(401);
      expect((await publish(key as string)).status).toBe(202);
      expect((await notificationsWith(url, issued.body.token)).body.items).toHaveLength(1);
    }, 45_000);

    it('npm start: a new internal key each start', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 2; i++) {
        const gateway = start(() => runNpmStart({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, PORT: '0', WORKER_EMBEDDED: 'false' }));
        await gateway.waitForListening(30_000);
        keys.push(/INTERNAL_API_KEY=(\S+)/.exec(gateway.stderr)?.[1] ?? '');
        gateway.child.kill('SIGTERM');
        await gateway.exited;
      }
      expect(keys[0]).not.toBe('');
      expect(keys[0]).not.toBe(keys[1]);
    }, 60_000);

    it('npm start honours HOST, and supplies nothing when the secrets are set', async () => {
      const withHost = start(() => runNpmStart({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, PORT: '0', WORKER_EMBEDDED: 'false', HOST: '0.0.0.0' }));
      await withHost.waitForListening(30_000);
      expect(withHost.listeningHost()).toBe('0.0.0.0');

      const { HOST: _, ...configured } = gatewayEnv(prefix);
      const staging = start(() => runNpmStart({ ...configured, NODE_ENV: 'staging', WORKER_EMBEDDED: 'false' }));
      const port = await staging.waitForListening(30_000);
      expect(staging.stderr).not.toContain('npm start:');
      const url = `http://127.0.0.1:${port}`;
      expect((await mint(url)).status).toBe(404);
      expect((await request(url).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send({ userId: randomUserId(), type: 'job-match', data: {} })).status).toBe(202);
      expect((await notificationsWith(url, userToken(randomUserId(), { secret: TEST_JWT_SECRET }))).status).toBe(200);
    }, 60_000);
  });
});
