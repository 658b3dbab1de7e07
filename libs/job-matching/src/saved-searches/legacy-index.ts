import type Redis from 'ioredis';
import type { RedisKeys } from '@app/notifications';

/**
 * Before the index moved into the `{match}` slot (for Redis Cluster) it lived
 * under `<prefix>:saved-searches-by-id` and `<prefix>:search-index:<word>`.
 * On start-up, a one-server or Sentinel deployment merges what is still there
 * into the new keys, so that no search saved before the upgrade stops
 * matching. Merging (HSET, SADD) is idempotent, so instances starting
 * together do no harm; the old key goes once merged. A cluster never had
 * working old keys (they spanned slots), so it has nothing to move.
 */
export async function mergeLegacyMatchIndex(redis: Redis, keys: RedisKeys): Promise<number> {
  let moved = 0;
  const oldById = `${keys.prefix}:saved-searches-by-id`;
  const byId = await redis.hgetall(oldById);
  if (Object.keys(byId).length > 0) {
    await redis.hset(keys.savedSearchesById(), byId);
    moved += Object.keys(byId).length;
  }
  await redis.del(oldById);
  const oldIndex = `${keys.prefix}:search-index:`;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${oldIndex}*`, 'COUNT', 1000);
    for (const key of found) {
      if (key.startsWith(`${oldIndex}{match}:`)) continue;
      const ids = await redis.smembers(key);
      if (ids.length > 0) await redis.sadd(keys.searchIndex(key.slice(oldIndex.length)), ...ids);
      await redis.del(key);
    }
    cursor = next;
  } while (cursor !== '0');
  return moved;
}
