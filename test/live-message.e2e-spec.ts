import type Redis from 'ioredis';
import { decodeInboxState, decodeLiveMessage, encodeLiveMessage } from '../libs/notifications/src/live-message';
import { APPEND_SCRIPT, HISTORY_TTL_MS, IDEMPOTENCY_TTL_SECONDS } from '../libs/notifications/src/notification.scripts';
import { createRedisClient, parseRedisUrl } from '../libs/notifications/src/redis/redis-deployment';
import { RedisKeys } from '../libs/notifications/src/redis/redis-keys';
import { randomUserId, uniquePrefix } from './support/prefix';
import { deletePrefix, testRedisClient, testRedisUrl } from './support/redis';
import { waitFor } from './support/wait-for';

/** The codec's guard on the real script: a change to the bytes the script publishes fails here. */
describe('the append script on the real Redis', () => {
  const prefix = uniquePrefix();
  const keys = new RedisKeys(prefix);
  let redis: Redis;
  let subscriber: Redis;

  beforeAll(() => {
    redis = testRedisClient() as Redis;
    // As the gateway subscribes: one subscriber connection per primary on a cluster.
    subscriber = createRedisClient(parseRedisUrl(testRedisUrl()), {}, { shardedSubscribers: true }) as Redis;
  });
  afterAll(async () => {
    redis.disconnect();
    subscriber.disconnect();
    await deletePrefix(prefix);
  });

  it('publishes exactly encodeLiveMessage(id, type, body) on the user channel', async () => {
    const userId = randomUserId('a}b');
    const received: string[] = [];
    subscriber.on('smessage', (channel: string, message: string) => channel === keys.userChannel(userId) && received.push(message));
    await subscriber.ssubscribe(keys.userChannel(userId));
    const body = `"type":"job-match","userId":${JSON.stringify(userId)},"data":{},"createdAt":"2026-12-04T00:00:00.000Z"}`;
    const [id] = (await redis.eval(
      APPEND_SCRIPT,
      2,
      keys.userStream(userId),
      keys.trimmedWatermark(userId),
      10,
      'job-match',
      body,
      keys.userChannel(userId),
      IDEMPOTENCY_TTL_SECONDS,
      HISTORY_TTL_MS,
      0,
      0,
    )) as [string, number];
    await waitFor(() => received.length === 1, 'the live message');
    expect(received[0]).toBe(encodeLiveMessage(id, 'job-match', body));
  });

  it("adds the user's read state after a newline, as decodeInboxState reads it", async () => {
    const userId = randomUserId('a}b');
    const feed = keys.userFeed(userId);
    const received: string[] = [];
    subscriber.on('smessage', (channel: string, message: string) => channel === feed.channel && received.push(message));
    await subscriber.ssubscribe(feed.channel);
    const body = `"type":"job-match","userId":${JSON.stringify(userId)},"data":{},"createdAt":"2026-12-04T00:00:00.000Z"}`;
    const append = () =>
      redis.eval(APPEND_SCRIPT, 4, feed.history, feed.trimmed, feed.inbox!.unread, feed.inbox!.state, 10, 'job-match', body, feed.channel, IDEMPOTENCY_TTL_SECONDS, HISTORY_TTL_MS, 0, 1) as Promise<[string, number]>;
    const [first] = await append();
    const [second] = await append();
    await waitFor(() => received.length === 2, 'the live messages');
    const states = received.map((message) => decodeInboxState(message));
    expect(received[1].startsWith(`${encodeLiveMessage(second, 'job-match', body)}\n`)).toBe(true);
    expect(decodeLiveMessage(received[0], userId).json).toBe(`{"id":"${first}",${body}`);
    expect(states.map((state) => [state?.unread, state?.readUpTo])).toEqual([
      [1, '0-0'],
      [2, '0-0'],
    ]);
    expect(states[1]!.version).toBeGreaterThan(states[0]!.version);
  });
});
