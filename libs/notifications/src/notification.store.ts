import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './config';
import { NotificationInput } from './notification';
import { NotificationEnvelope } from './notification-envelope';
import { RedisConnections } from './redis/redis-connections';
import { RedisKeys } from './redis/redis-keys';

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/*
 * Store and publish in one script: the XADD that assigns the id and the PUBLISH
 * that fans it out are atomic, so every instance sees a user's live
 * notifications in stream order, and a subscriber that reads the stream after
 * subscribing can merge the two by id without a gap. An idempotency key is
 * checked and recorded in the same step, so a retried publish stores nothing.
 *
 * KEYS: stream [, idempotency]   ARGV: maxlen, type, body, channel, ttl
 * body is the notification JSON without its opening "{" and its id.
 */
const APPEND_SCRIPT = `
if #KEYS == 2 then
  local previous = redis.call('GET', KEYS[2])
  if previous then return {previous, 1} end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 't', ARGV[2], 'n', ARGV[3])
if #KEYS == 2 then redis.call('SET', KEYS[2], id, 'EX', ARGV[5]) end
redis.call('PUBLISH', ARGV[4], id .. ' ' .. ARGV[2] .. ' {"id":"' .. id .. '",' .. ARGV[3])
return {id, 0}
`;

/*
 * The last id ever given in the stream and the newest id trimmed away: a
 * resume point older than the latter has lost notifications to trimming.
 */
const POSITION_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'0-0', '0-0'} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, deleted = '0-0', '0-0'
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1]
  elseif info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end
end
return {last, deleted}
`;

export interface AppendResult {
  id: string;
  /** True when the idempotency key had been seen: nothing new was stored. */
  duplicate: boolean;
}

export interface StreamPosition {
  /** The newest id ever appended ("0-0" for a user with no history). */
  lastId: string;
  /** The newest id trimmed from the history ("0-0" if none was). */
  maxTrimmedId: string;
}

type ScriptedRedis = RedisConnections['command'] & {
  rtgAppend(numKeys: number, ...args: (string | number)[]): Promise<[string, number]>;
  rtgPosition(numKeys: number, key: string): Promise<[string, string]>;
};

/**
 * Per-user notification history in Redis Streams, bounded to
 * HISTORY_MAX_PER_USER entries. Ids are Redis stream ids, so they strictly
 * increase per user.
 */
@Injectable()
export class NotificationStore {
  private readonly redis: ScriptedRedis;

  constructor(
    connections: RedisConnections,
    private readonly keys: RedisKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.redis = connections.command as ScriptedRedis;
    this.redis.defineCommand('rtgAppend', { lua: APPEND_SCRIPT });
    this.redis.defineCommand('rtgPosition', { lua: POSITION_SCRIPT });
  }

  /** Stores and fans out one validated notification. */
  async append(input: NotificationInput, createdAt: Date): Promise<AppendResult> {
    const body = JSON.stringify({
      type: input.type,
      userId: input.userId,
      data: input.data,
      createdAt: createdAt.toISOString(),
    }).slice(1);
    const stream = this.keys.userStream(input.userId);
    const keys = input.idempotencyKey ? [stream, this.keys.idempotency(input.userId, input.idempotencyKey)] : [stream];
    const [id, duplicate] = await this.redis.rtgAppend(
      keys.length,
      ...keys,
      this.config.historyMaxPerUser,
      input.type,
      body,
      this.keys.userChannel(input.userId),
      IDEMPOTENCY_TTL_SECONDS,
    );
    return { id, duplicate: duplicate === 1 };
  }

  /** Up to `count` retained notifications after `afterId` (exclusive; null = the oldest retained), oldest first. */
  async readAfter(userId: string, afterId: string | null, count: number): Promise<NotificationEnvelope[]> {
    const entries = await this.redis.xrange(this.keys.userStream(userId), afterId === null ? '-' : `(${afterId}`, '+', 'COUNT', count);
    const envelopes = new Array<NotificationEnvelope>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const [id, fields] = entries[i];
      envelopes[i] = NotificationEnvelope.fromStored(id, field(fields, 't'), userId, field(fields, 'n'));
    }
    return envelopes;
  }

  async position(userId: string): Promise<StreamPosition> {
    const [lastId, maxTrimmedId] = await this.redis.rtgPosition(1, this.keys.userStream(userId));
    return { lastId, maxTrimmedId };
  }
}

function field(fields: string[], name: string): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  throw new Error(`stream entry without field ${name}`);
}
