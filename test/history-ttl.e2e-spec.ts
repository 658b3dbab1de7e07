import request from 'supertest';
import { RedisKeys } from '@app/notifications';
import { closeAfterEach } from './support/close-after-each';
import { publish } from './support/publish';
import { randomUserId } from './support/prefix';
import { type RedisClient, scanPrimaries, testRedisClient } from './support/redis';
import { connectSocket, connected } from './support/socket-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * A user's history lives a day past its newest notification: every append
 * gives the user's keys that expiry again, so an id nobody ever signs in as
 * (a typo, a probe, a flood of direct chats to made-up ids) leaves nothing
 * behind for good.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

describe('history expiry', () => {
  let gateway: TestGateway;
  let redis: RedisClient;
  let keys: RedisKeys;
  const track = closeAfterEach();

  beforeAll(async () => {
    // A short history, so that a few publishes trim it and write the watermark.
    gateway = await startGateway({ env: { HISTORY_MAX_PER_USER: '2' } });
    redis = testRedisClient();
    keys = new RedisKeys(gateway.config.redisKeyPrefix);
  });

  const keysMatching = async (pattern: string) => {
    const found: string[] = [];
    for await (const { keys } of scanPrimaries(redis, pattern)) found.push(...keys);
    return found;
  };

  afterAll(async () => {
    redis.disconnect();
    await gateway.close();
  });

  it('gives the stream and its trim watermark an expiry of a day past the newest notification', async () => {
    const userId = randomUserId('ttl');
    for (let i = 0; i < 3; i++) await publish(gateway.url, userId, 'job-match', { i });
    for (const key of [keys.userStream(userId), keys.trimmedWatermark(userId)]) {
      const ttl = await redis.pttl(key);
      expect({ key, ttl }).toEqual({ key, ttl: expect.any(Number) });
      expect(ttl).toBeGreaterThan(DAY_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(DAY_MS);
    }
  });

  it('renews the expiry with every notification', async () => {
    const userId = randomUserId('ttl');
    await publish(gateway.url, userId);
    await redis.pexpire(keys.userStream(userId), 5_000);
    await publish(gateway.url, userId);
    expect(await redis.pttl(keys.userStream(userId))).toBeGreaterThan(DAY_MS - 60_000);
  });

  it('leaves only expiring keys for a user who never existed: publishes with idempotency keys and direct chats', async () => {
    const ghost = randomUserId('ghost');
    const sender = randomUserId('ghost-sender');
    for (let i = 0; i < 3; i++) await publish(gateway.url, ghost, 'job-match', { i }, `ghost-key-${i}`);
    const client = connectSocket(gateway.url, sender);
    track(client);
    await connected(client);
    expect(await client.request('chat', { recipientId: ghost, content: 'anyone there?' })).toMatchObject({ ok: true });

    for (const userId of [ghost, sender]) {
      const found = await keysMatching(`${gateway.config.redisKeyPrefix}:*{${userId}}*`);
      const ttls = await Promise.all(found.map(async (key) => [key, await redis.pttl(key)] as const));
      expect(ttls.filter(([, ttl]) => ttl < 0)).toEqual([]);
      if (userId === ghost) expect(found.length).toBeGreaterThanOrEqual(5); // stream, watermark, three idempotency keys
    }
  });

  it('answers a cursor into a history that expired as an unknown cursor', async () => {
    const userId = randomUserId('ttl');
    const id = await publish(gateway.url, userId);
    // What a day without notifications does.
    await redis.pexpire(keys.userStream(userId), 1);
    await waitFor(async () => ((await redis.exists(keys.userStream(userId))) === 0 ? true : null), 'the history to expire');
    const polled = await request(gateway.url).get(`/api/notifications?after=${id}`).set('Authorization', `Bearer ${userToken(userId)}`);
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ items: [], lastId: '0-0', reset: { reason: 'unknown-cursor' } });
  });
});
