import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import request from 'supertest';
import { QUEUES } from '@app/job-matching';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

describe('REST', () => {
  let gateway: TestGateway;
  const api = () => request(gateway.url);
  const asUser = (userId: string) => ({ Authorization: `Bearer ${userToken(userId)}` });
  const list = async (userId: string, query = '') => {
    const response = await api().get(`/api/notifications${query}`).set(asUser(userId));
    expect(response.status).toBe(200);
    return response.body as { items: Array<{ id: string; type: string; userId: string; data: Record<string, unknown> }>; lastId: string | null };
  };

  beforeAll(async () => {
    gateway = await startGateway({ env: { HISTORY_MAX_PER_USER: '50', DEV_TOKENS: 'true' } });
  });

  afterAll(async () => {
    await gateway.close();
  });

  describe('POST /api/notifications', () => {
    it('stores a notification and answers 202 with its id', async () => {
      const userId = randomUserId();
      const response = await api()
        .post('/api/notifications')
        .set('X-Api-Key', TEST_API_KEY)
        .send({ userId, type: 'message-received', data: { from: 'u7', content: 'hi' } });
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ id: expect.stringMatching(/^\d+-\d+$/) });
      const { items } = await list(userId);
      expect(items).toEqual([
        { id: response.body.id, type: 'message-received', userId, data: { from: 'u7', content: 'hi' }, createdAt: expect.any(String), read: false },
      ]);
    });

    it('answers the first id for a repeated idempotencyKey and stores nothing new', async () => {
      const userId = randomUserId();
      const first = await publish(gateway.url, userId, 'job-match', { n: 1 }, 'order-42');
      const again = await publish(gateway.url, userId, 'job-match', { n: 2 }, 'order-42');
      const otherKey = await publish(gateway.url, userId, 'job-match', { n: 3 }, 'order-43');
      expect(again).toBe(first);
      expect(otherKey).not.toBe(first);
      // The key is per user: another user with the same key gets their own notification.
      const otherUser = randomUserId();
      expect(await publish(gateway.url, otherUser, 'job-match', {}, 'order-42')).not.toBe(first);
      expect((await list(userId)).items.map((item) => item.id)).toEqual([first, otherKey]);
      const metrics = await api().get('/metrics');
      expect(metrics.text).toMatch(/^rtg_notifications_published_total \d+$/m);
    });

    it('keeps the idempotency keys of two users apart when ids and keys hold "}:" (issue 13)', async () => {
      // User `a` with key `b}:c` and user `a}:b` with key `c` once shared one Redis key.
      const a = randomUserId('a');
      const first = await publish(gateway.url, a, 'job-match', { for: 'a' }, 'b}:c');
      const second = await publish(gateway.url, `${a}}:b`, 'job-match', { for: 'a}:b' }, 'c');
      expect(second).not.toBe(first);
      expect((await list(`${a}}:b`)).items).toEqual([expect.objectContaining({ id: second, data: { for: 'a}:b' } })]);
      expect((await list(a)).items).toEqual([expect.objectContaining({ id: first, data: { for: 'a' } })]);
      expect(await publish(gateway.url, `${a}}:b`, 'job-match', {}, 'c')).toBe(second);
    });

    it.each([
      ['missing userId', { type: 'job-match', data: {} }, 'userId'],
      ['userId with a space', { userId: 'a b', type: 'job-match', data: {} }, 'userId'],
      ['bad type', { userId: 'u', type: 'Job Match', data: {} }, 'type'],
      ['type too long', { userId: 'u', type: 'a'.repeat(65), data: {} }, 'type'],
      ['data an array', { userId: 'u', type: 'job-match', data: [1] }, 'data'],
      ['data missing', { userId: 'u', type: 'job-match' }, 'data'],
      ['data over 64 KiB', { userId: 'u', type: 'job-match', data: { blob: 'x'.repeat(64 * 1024) } }, 'data'],
      ['an unknown field', { userId: 'u', type: 'job-match', data: {}, priority: 'high' }, 'priority'],
      ['a bad idempotencyKey', { userId: 'u', type: 'job-match', data: {}, idempotencyKey: '' }, 'idempotencyKey'],
    ])('answers 400 naming the field for %s, and stores nothing', async (_, body, field) => {
      const userId = randomUserId();
      const payload = { ...body, ...('userId' in body && body.userId === 'u' ? { userId } : {}) };
      const response = await api().post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send(payload);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', field });
      expect(typeof response.body.message).toBe('string');
      expect((await list(userId)).items).toEqual([]);
    });

    it('answers 400 for malformed JSON and 413 for a body over 1 MiB, storing nothing', async () => {
      const userId = randomUserId();
      const malformed = await api()
        .post('/api/notifications')
        .set('X-Api-Key', TEST_API_KEY)
        .set('Content-Type', 'application/json')
        .send('{"userId": "x",');
      expect(malformed.status).toBe(400);
      expect(malformed.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const huge = await api()
        .post('/api/notifications')
        .set('X-Api-Key', TEST_API_KEY)
        .send({ userId, type: 'job-match', data: { blob: 'x'.repeat(1024 * 1024 + 10) } });
      expect(huge.status).toBe(413);
      expect(huge.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect((await list(userId)).items).toEqual([]);
    });

    it.each([
      ['no key', {}],
      ['a wrong key', { 'X-Api-Key': 'nope' }],
      ['a user token instead of the key', { Authorization: `Bearer ${userToken('u1')}` }],
    ])('answers 401 with %s and stores nothing', async (_, headers) => {
      const userId = randomUserId();
      const response = await api()
        .post('/api/notifications')
        .set(headers as Record<string, string>)
        .send({ userId, type: 'job-match', data: {} });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      expect((await list(userId)).items).toEqual([]);
    });

    it('answers 401 to everyone while INTERNAL_API_KEY is not set', async () => {
      const keyless = await startGateway({ env: { INTERNAL_API_KEY: '' } });
      try {
        const response = await request(keyless.url)
          .post('/api/notifications')
          .set('X-Api-Key', '')
          .send({ userId: 'u', type: 'job-match', data: {} });
        expect(response.status).toBe(401);
      } finally {
        await keyless.close();
      }
    });
  });

  describe('GET /api/notifications (polling)', () => {
    it('pages through the history oldest first with after and limit, with the ids SSE uses', async () => {
      const userId = randomUserId();
      const published: string[] = [];
      for (let i = 0; i < 7; i++) published.push(await publish(gateway.url, userId, 'job-match', { i }));
      const first = await list(userId, '?limit=3');
      expect(first.items.map((item) => item.id)).toEqual(published.slice(0, 3));
      expect(first.lastId).toBe(published[2]);
      const second = await list(userId, `?after=${first.lastId}&limit=3`);
      expect(second.items.map((item) => item.data.i)).toEqual([3, 4, 5]);
      const third = await list(userId, `?after=${second.lastId}`);
      expect(third.items.map((item) => item.id)).toEqual([published[6]]);
      const empty = await list(userId, `?after=${third.lastId}`);
      expect(empty).toEqual({ items: [], lastId: published[6] });
    });

    it('defaults to 50 items and keeps only HISTORY_MAX_PER_USER', async () => {
      const userId = randomUserId();
      const published: string[] = [];
      for (let i = 0; i < 60; i++) published.push(await publish(gateway.url, userId, 'job-match', { i }));
      const page = await list(userId);
      expect(page.items).toHaveLength(50);
      expect(page.items.map((item) => item.id)).toEqual(published.slice(10));
    });

    it('answers a user with nothing an empty page', async () => {
      expect(await list(randomUserId())).toEqual({ items: [], lastId: null });
    });

    it("never lists another user's notifications", async () => {
      const alice = randomUserId('alice');
      const bob = randomUserId('bob');
      await publish(gateway.url, alice, 'job-match', { secret: 'alice' });
      expect((await list(bob)).items).toEqual([]);
      // `after` cannot be used to reach into another user's history either.
      expect((await list(bob, '?after=0')).items).toEqual([]);
    });

    it.each(['0', '201', '-1', 'ten', '1.5'])('answers 400 naming limit for limit=%s', async (limit) => {
      const response = await api().get(`/api/notifications?limit=${limit}`).set(asUser(randomUserId()));
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, field: 'limit' });
    });

    it('answers 400 naming after for a malformed id, and for an unknown query field', async () => {
      const bad = await api().get('/api/notifications?after=yesterday').set(asUser(randomUserId()));
      expect(bad.body).toMatchObject({ statusCode: 400, field: 'after' });
      const unknown = await api().get('/api/notifications?userId=someone-else').set(asUser(randomUserId()));
      expect(unknown.body).toMatchObject({ statusCode: 400, field: 'userId' });
    });

    it('answers 401 without a valid user token', async () => {
      expect((await api().get('/api/notifications')).status).toBe(401);
      const expired = await api()
        .get('/api/notifications')
        .set('Authorization', `Bearer ${userToken('u1', { expiresInSeconds: -1 })}`);
      expect(expired.status).toBe(401);
      const internalKey = await api().get('/api/notifications').set('X-Api-Key', TEST_API_KEY);
      expect(internalKey.status).toBe(401);
    });
  });

  describe('POST /api/saved-searches', () => {
    it('holds the cap of 100 searches under 150 concurrent creates (issue 13)', async () => {
      const userId = randomUserId();
      // fetch over connections opened beforehand sends the 150 at once; new connections (and supertest's) trickle in.
      const open = await Promise.all(Array.from({ length: 150 }, () => fetch(`${gateway.url}/api/saved-searches`, { headers: asUser(userId) })));
      await Promise.all(open.map((response) => response.arrayBuffer()));
      const responses = await Promise.all(
        Array.from({ length: 150 }, async (_, i) => {
          const response = await fetch(`${gateway.url}/api/saved-searches`, {
            method: 'POST',
            headers: { ...asUser(userId), 'Content-Type': 'application/json' },
            body: JSON.stringify({ keywords: [`word${i}`] }),
          });
          return { status: response.status, body: (await response.json()) as Record<string, unknown> };
        }),
      );
      expect(responses.filter((response) => response.status === 201).length).toBe(100);
      for (const refused of responses.filter((response) => response.status !== 201)) {
        expect(refused.status).toBe(400);
        expect(refused.body).toMatchObject({ statusCode: 400, field: 'body', message: expect.stringContaining('at most 100') });
      }
      const listed = await api().get('/api/saved-searches').set(asUser(userId));
      expect(listed.body.items).toHaveLength(100);
    });
  });

  describe('identity', () => {
    it('issues dev tokens that work on the user endpoints', async () => {
      const userId = randomUserId();
      const issued = await api().post('/api/dev/token').send({ userId });
      expect(issued.status).toBe(200);
      expect(issued.body).toEqual({ token: expect.any(String) });
      const response = await api().get('/api/notifications').set('Authorization', `Bearer ${issued.body.token}`);
      expect(response.status).toBe(200);
      const bad = await api().post('/api/dev/token').send({ userId: '' });
      expect(bad.body).toMatchObject({ statusCode: 400, field: 'userId' });
    });

    it('has no dev token endpoint in production', async () => {
      const production = await startGateway({ env: { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), INTERNAL_API_KEY: 'k'.repeat(20) } });
      try {
        const response = await request(production.url).post('/api/dev/token').send({ userId: 'u1' });
        expect(response.status).toBe(404);
      } finally {
        await production.close();
      }
    });
  });

  describe('operations', () => {
    it('answers unknown routes 404 with a JSON body', async () => {
      const response = await api().get('/api/nope');
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ statusCode: 404 });
    });

    it('reports health 200 with Redis up', async () => {
      const response = await api().get('/health');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'ok', info: { redis: { status: 'up' } } });
    });

    it('reports 503 while Redis is unreachable, and refuses publishes and streams with 503', async () => {
      const closedPort = await startGateway({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
      try {
        const health = await request(closedPort.url).get('/health');
        expect(health.status).toBe(503);
        expect(health.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
        const published = await request(closedPort.url)
          .post('/api/notifications')
          .set('X-Api-Key', TEST_API_KEY)
          .send({ userId: 'u1', type: 'job-match', data: {} });
        expect(published.status).toBe(503);
        expect(published.body).toMatchObject({ statusCode: 503 });
        const stream = await request(closedPort.url).get('/api/events').set(asUser('u1'));
        expect(stream.status).toBe(503);
      } finally {
        await closedPort.close();
      }
    });

    it('exposes the contract metrics in Prometheus text', async () => {
      const response = await api().get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      for (const name of [
        'rtg_connections{channel="sse"}',
        'rtg_connections{channel="socketio"}',
        'rtg_notifications_published_total',
        'rtg_notifications_delivered_total{channel="polling"}',
        'rtg_delivery_latency_seconds_bucket{le="0.005",channel="sse"}',
        'nodejs_eventloop_lag_seconds',
        'process_resident_memory_bytes',
      ]) {
        expect(response.text).toContain(name);
      }
    });

    it('exposes what an operator alerts on: live delivery, the probe round trip, the connection caps, job results from zero', async () => {
      const { text } = await api().get('/metrics');
      expect(text).toMatch(/^rtg_live_delivery_up 1$/m);
      expect(text).toMatch(/^rtg_delivery_probe_seconds \d+(\.\d+)?(e-\d+)?$/m);
      expect(text).toContain(`rtg_connections_max{scope="instance"} ${gateway.config.maxConnectionsPerInstance}`);
      expect(text).toContain(`rtg_connections_max{scope="user"} ${gateway.config.maxConnectionsPerUser}`);
      for (const queue of ['job-postings', 'notifications']) {
        for (const result of ['completed', 'failed']) expect(text).toMatch(new RegExp(`^rtg_jobs_processed_total\\{queue="${queue}",result="${result}"\\} \\d+$`, 'm'));
      }
    });

    it('answers 50 concurrent scrapes with at most two rounds of queue counts, fresh again a second later (issue 13)', async () => {
      const queues = [QUEUES.jobPostings, QUEUES.notifications].map((name) => gateway.app.get<Queue>(getQueueToken(name)));
      const spies = queues.map((queue) => jest.spyOn(queue, 'getJobCounts'));
      const calls = () => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
      try {
        const scrapes = await Promise.all(Array.from({ length: 50 }, () => api().get('/metrics')));
        for (const scrape of scrapes) {
          expect(scrape.status).toBe(200);
          expect(scrape.text).toMatch(/^rtg_queue_jobs\{queue="job-postings",state="waiting"\} \d+$/m);
        }
        // One round, or two when a count from an earlier scrape expired in the middle (none when it is still fresh).
        expect(calls()).toBeLessThanOrEqual(2 * queues.length);
        const before = calls();
        await waitFor(async () => (await api().get('/metrics')).status === 200 && calls() > before, 'a scrape to count the queues again', 5_000, 200);
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
    });
  });
});
