import { Injectable, OnModuleInit } from '@nestjs/common';
import { RedisConnections } from '../redis/redis-connections';

/**
 * One limit kept in Redis, shared by every instance: `limit` units of cost per
 * `windowMs`, all of them at once as a burst, refilled continuously (a token
 * bucket, kept as GCRA's one timestamp per key).
 */
export interface RateBucket {
  /** Every bucket of one check must share a hash slot: the check is one script. */
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  /** What this request takes from the bucket (1 for a message, its size for bytes). */
  readonly cost: number;
}

/**
 * The Lua of a bucket check, for any script that includes it:
 * `take_buckets(firstKey, firstArg)` checks the buckets KEYS[firstKey..] with
 * ARGV triples (window ms, limit, cost) from ARGV[firstArg], and takes from all
 * of them or from none. A key holds the time at which its bucket will be full
 * again and expires then, so an idle bucket costs no memory. Time is the Redis
 * server's: instances with skewed clocks still share one budget.
 */
export const TAKE_BUCKETS_LUA = `
local function take_buckets(firstKey, firstArg)
  local clock = redis.call('TIME')
  local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
  local full = {}
  for i = firstKey, #KEYS do
    local a = firstArg + (i - firstKey) * 3
    local window, limit, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local at = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now) + cost * window / limit
    if at - now > window then return false end
    full[i] = at
  end
  for i = firstKey, #KEYS do
    redis.call('SET', KEYS[i], string.format('%.3f', full[i]), 'PX', math.max(1, math.ceil(full[i] - now)))
  end
  return true
end
`;

/** ARGV for {@link TAKE_BUCKETS_LUA}, in the order of the buckets' keys. */
export function bucketArgs(buckets: readonly RateBucket[]): number[] {
  const args: number[] = [];
  for (const bucket of buckets) args.push(bucket.windowMs, bucket.limit, bucket.cost);
  return args;
}

const TAKE_SCRIPT = `${TAKE_BUCKETS_LUA}
if take_buckets(1, 1) then return 1 end
return 0
`;

type ScriptedRedis = RedisConnections['command'] & {
  rtgTakeBuckets(numKeys: number, ...args: (string | number)[]): Promise<number>;
};

/** Checks limits kept in Redis: one script, one round trip, per check. */
@Injectable()
export class RateLimiter implements OnModuleInit {
  private readonly redis: ScriptedRedis;

  constructor(private readonly connections: RedisConnections) {
    this.redis = connections.command as ScriptedRedis;
  }

  onModuleInit(): void {
    this.redis.defineCommand('rtgTakeBuckets', { lua: TAKE_SCRIPT });
  }

  /** Takes `cost` from every bucket if each has room, else from none: false when over a limit. */
  async take(buckets: readonly RateBucket[]): Promise<boolean> {
    this.connections.assertConnected();
    const taken = await this.redis.rtgTakeBuckets(buckets.length, ...buckets.map((bucket) => bucket.key), ...bucketArgs(buckets));
    return taken === 1;
  }
}
