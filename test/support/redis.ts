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
 * The keys matching `pattern`, a SCAN page at a time with the primary that
 * holds them: SCAN, never KEYS (other runs share this Redis), and on every
 * primary, since a cluster's SCAN reads one node.
 */
export async function* scanPrimaries(client: RedisClient, pattern: string): AsyncGenerator<{ node: Redis; keys: string[] }> {
  for (const node of primariesOf(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) yield { node, keys };
      cursor = next;
    } while (cursor !== '0');
  }
}

/**
 * The name of a gateway's subscriber connections as Redis lists them: on a
 * cluster, ioredis's sharded subscriber holds one connection per primary it
 * subscribes on, named `ioredis-cluster(ssubscriber):<name>`, beside a
 * connection of the client's own name that subscribes to nothing.
 */
export function subscriberConnectionName(prefix: string, client: RedisClient): string {
  return primariesOf(client).length > 1 ? `ioredis-cluster(ssubscriber):${prefix}:subscriber` : `${prefix}:subscriber`;
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
    for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
      // One UNLINK per key: on a cluster the keys of one page lie in many slots.
      for await (const { node, keys } of scanPrimaries(client, pattern)) for (const key of keys) await node.unlink(key);
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
