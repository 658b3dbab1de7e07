import { Queue } from 'bullmq';
import type { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { createRedisClient, DEFAULT_REDIS_URL, parseRedisUrl, type RedisClient } from '../../libs/notifications/src/redis/redis-deployment';

export function testRedisUrl(): string {
  return process.env.REDIS_URL || DEFAULT_REDIS_URL;
}

/** A client of the test run's deployment (one server, Sentinel or Cluster), as the gateway makes them. */
export type { RedisClient };

export function testRedisClient(options: RedisOptions = {}, redisUrl = testRedisUrl(), cluster: { shardedSubscribers?: boolean } = {}): RedisClient {
  return createRedisClient(parseRedisUrl(redisUrl), options, cluster);
}

/** BullMQ's prefix for a key prefix on this deployment: in braces on a cluster, as the gateway's config makes it. */
export function queuePrefixOf(prefix: string, redisUrl = testRedisUrl()): string {
  return parseRedisUrl(redisUrl).kind === 'cluster' ? `{${prefix}}` : prefix;
}

/** The primaries of a deployment: the client itself, or each cluster primary. */
export function primariesOf(client: RedisClient): Redis[] {
  return 'isCluster' in client && client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
}

/**
 * Deletes every key under `prefix` (SCAN + UNLINK) and nothing else: other
 * runs share this Redis. On a cluster, every primary is scanned, and BullMQ's
 * braced prefix `{prefix}:` too.
 */
export async function deletePrefix(prefix: string, redisUrl = testRedisUrl()): Promise<void> {
  const client = testRedisClient({ lazyConnect: true }, redisUrl);
  await client.connect();
  try {
    for (const node of primariesOf(client)) {
      for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          // One UNLINK per key: on a cluster the keys of one page lie in many slots.
          for (const key of keys) await node.unlink(key);
          cursor = next;
        } while (cursor !== '0');
      }
    }
  } finally {
    client.disconnect();
  }
}

/** A BullMQ queue of the gateway's deployment and prefix (braced on a cluster); closing it closes its connection. */
export function testQueue(name: string, config: { queuePrefix: string }, redisUrl = testRedisUrl()): Queue {
  const connection = testRedisClient({ maxRetriesPerRequest: null }, redisUrl);
  const queue = new Queue(name, { connection, prefix: config.queuePrefix });
  const close = queue.close.bind(queue);
  queue.close = async () => {
    await close();
    connection.disconnect();
  };
  return queue;
}
