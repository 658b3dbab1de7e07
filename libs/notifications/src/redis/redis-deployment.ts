import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';

/** Where `REDIS_URL` points when it is unset. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** The Redis deployment REDIS_URL names, parsed once at start-up. */
export type RedisDeployment =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisNode[];
      readonly masterName: string;
      readonly username?: string;
      readonly password?: string;
    }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisNode[]; readonly username?: string; readonly password?: string };

/** Either client a deployment gets: one connection (single, Sentinel) or a cluster of them. */
export type RedisClient = Redis | Cluster;

const SCHEMES = ['redis:', 'rediss:', 'redis+sentinel:', 'redis+cluster:'];

/**
 * Parses `redis://` / `rediss://` (one server), `redis+sentinel://h:p[,h:p...]/<master>`
 * and `redis+cluster://h:p[,h:p...]`; a WHATWG URL cannot hold a host list,
 * so the last two are cut by hand. Throws an Error whose message says what is wrong.
 */
export function parseRedisUrl(value: string): RedisDeployment {
  const scheme = /^[a-z+]+:/.exec(value)?.[0] ?? '';
  if (!SCHEMES.includes(scheme)) throw new Error('must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL');
  if (scheme === 'redis:' || scheme === 'rediss:') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error('must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL');
    }
    if (url.hostname === '') throw new Error('must name a host');
    return { kind: 'single', url: value };
  }
  const match = /^[a-z+]+:\/\/(?:([^@/]*)@)?([^/?#]+)(?:\/([^?#]*))?$/.exec(value);
  if (!match) throw new Error('must look like redis+sentinel://host:port,host:port/master or redis+cluster://host:port,host:port');
  const [, userInfo, hostList, path = ''] = match;
  const credentials = parseUserInfo(userInfo);
  if (scheme === 'redis+sentinel:') {
    const masterName = decodeURIComponent(path);
    if (masterName === '') throw new Error('must end with the master name, as in redis+sentinel://host:26379/mymaster');
    return { kind: 'sentinel', sentinels: parseHosts(hostList, 26379), masterName, ...credentials };
  }
  if (path !== '') throw new Error('a cluster URL has no path: redis+cluster://host:port,host:port');
  return { kind: 'cluster', nodes: parseHosts(hostList, 6379), ...credentials };
}

function parseUserInfo(userInfo: string | undefined): { username?: string; password?: string } {
  if (userInfo === undefined || userInfo === '') return {};
  const colon = userInfo.indexOf(':');
  if (colon === -1) return { password: decodeURIComponent(userInfo) };
  const username = decodeURIComponent(userInfo.slice(0, colon));
  return { ...(username ? { username } : {}), password: decodeURIComponent(userInfo.slice(colon + 1)) };
}

function parseHosts(list: string, defaultPort: number): RedisNode[] {
  return list.split(',').map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry.trim());
    const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
    if (!match || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port`);
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

/**
 * A client of the deployment with the given per-connection options. Every
 * Redis client of the system is made here (ours, BullMQ's, the Socket.IO
 * adapter's), so all three follow a failover the same way:
 * - Sentinel: ioredis asks the sentinels for the primary on every reconnect,
 *   refuses a node that is no longer primary, and with `failoverDetector`
 *   drops its connection as soon as a sentinel announces +switch-master
 *   instead of writing to a demoted primary until it times out.
 * - Cluster: `shardedSubscribers` gives one subscriber connection per primary,
 *   so SSUBSCRIBE traffic is spread like the slots; commands follow MOVED.
 */
export function createRedisClient(deployment: RedisDeployment, options: RedisOptions, cluster: { shardedSubscribers?: boolean } = {}): RedisClient {
  switch (deployment.kind) {
    case 'single':
      return new Redis(deployment.url, options);
    case 'sentinel':
      return new Redis({ ...options, ...sentinelOptions(deployment) });
    case 'cluster':
      return new Cluster(
        deployment.nodes.map((node) => ({ ...node })),
        clusterOptions(deployment, options, cluster.shardedSubscribers ?? false),
      );
  }
}

/**
 * The options that make an ioredis client (or BullMQ, which takes options on
 * Sentinel) follow a Sentinel deployment's primary through failovers.
 */
export function sentinelOptions(deployment: Extract<RedisDeployment, { kind: 'sentinel' }>): RedisOptions {
  return {
    sentinels: deployment.sentinels.map((node) => ({ ...node })),
    name: deployment.masterName,
    username: deployment.username,
    password: deployment.password,
    // The sentinels share the primary's password when they have one: the usual setup.
    sentinelPassword: deployment.password,
    failoverDetector: true,
  };
}

function clusterOptions(deployment: Extract<RedisDeployment, { kind: 'cluster' }>, options: RedisOptions, shardedSubscribers: boolean): ClusterOptions {
  const { lazyConnect, ...redisOptions } = options;
  return {
    redisOptions: { ...redisOptions, username: deployment.username, password: deployment.password },
    lazyConnect,
    shardedSubscribers,
    // No enableAutoPipelining: while a shard fails over, its batches span the old and the new
    // slot map and fail as a whole ("All keys in the pipeline should belong to the same slots
    // allocation group"), turning a 503 for one shard's users into a 500 for everyone's.
    // A failed-over shard answers CLUSTERDOWN or refuses connections until a replica is promoted;
    // refresh the slot map soon after, so that commands move to the new primary.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshInterval: 2_000,
    enableReadyCheck: true,
  };
}
