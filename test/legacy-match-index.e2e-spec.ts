import type Redis from 'ioredis';
import { RedisKeys } from '../libs/notifications/src/redis/redis-keys';
import { mergeLegacyMatchIndex } from '../libs/job-matching/src/saved-searches/legacy-index';
import { uniquePrefix } from './support/prefix';
import { deletePrefix, testRedisClient } from './support/redis';

const single = (process.env.REDIS_TOPOLOGY ?? 'single') !== 'cluster';

(single ? describe : describe.skip)('saved searches stored before the {match} slot', () => {
  const prefix = uniquePrefix();
  const keys = new RedisKeys(prefix);
  let redis: Redis;

  beforeAll(() => {
    redis = testRedisClient() as Redis;
  });
  afterAll(async () => {
    redis.disconnect();
    await deletePrefix(prefix);
  });

  it('are merged into the new index keys, once, and the old keys go', async () => {
    await redis.hset(`${prefix}:saved-searches-by-id`, { s1: '{"id":"s1"}', s2: '{"id":"s2"}' });
    await redis.sadd(`${prefix}:search-index:typescript`, 's1');
    await redis.sadd(`${prefix}:search-index:rust`, 's2');
    await redis.sadd(keys.searchIndex('rust'), 's3'); // written by an instance that already runs the new layout

    expect(await mergeLegacyMatchIndex(redis, keys)).toBe(2);
    expect(await redis.hgetall(keys.savedSearchesById())).toEqual({ s1: '{"id":"s1"}', s2: '{"id":"s2"}' });
    expect(await redis.smembers(keys.searchIndex('typescript'))).toEqual(['s1']);
    expect((await redis.smembers(keys.searchIndex('rust'))).sort()).toEqual(['s2', 's3']);
    expect(await redis.exists(`${prefix}:saved-searches-by-id`, `${prefix}:search-index:typescript`, `${prefix}:search-index:rust`)).toBe(0);
    expect(await mergeLegacyMatchIndex(redis, keys)).toBe(0);
  });
});
