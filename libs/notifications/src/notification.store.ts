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
 * Before trimming, the newest id about to be trimmed is recorded: XADD MAXLEN
 * does not update the stream's max-deleted-entry-id, and a resume point older
 * than that id has lost notifications.
 *
 * KEYS: stream, trimmed-watermark [, idempotency]   ARGV: maxlen, type, body, channel, ttl
 * body is the notification JSON without its opening "{" and its id.
 */
const APPEND_SCRIPT = `
if #KEYS == 3 then
  local previous = redis.call('GET', KEYS[3])
  if previous then return {previous, 1} end
end
local max = tonumber(ARGV[1])
local length = redis.call('XLEN', KEYS[1])
if length >= max then
  local trimmed = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', length - max + 1)
  redis.call('SET', KEYS[2], trimmed[#trimmed][1])
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', max, '*', 't', ARGV[2], 'n', ARGV[3])
if #KEYS == 3 then redis.call('SET', KEYS[3], id, 'EX', ARGV[5]) end
redis.call('PUBLISH', ARGV[4], id .. ' ' .. ARGV[2] .. ' {"id":"' .. id .. '",' .. ARGV[3])
return {id, 0}
`;

/* The newest id in the stream and the newest id trimmed from it. KEYS: stream, trimmed-watermark */
const POSITION_SCRIPT = `
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = '0-0'
if #newest > 0 then last = newest[1][1] end
return {last, redis.call('GET', KEYS[2]) or '0-0'}
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
  rtgPosition(numKeys: number, stream: string, watermark: string): Promise<[string, string]>;
};

type PositionPipeline = ReturnType<RedisConnections['command']['pipeline']> & {
  rtgPosition(numKeys: number, stream: string, watermark: string): PositionPipeline;
};

interface PositionRequest {
  readonly userId: string;
  readonly resolve: (position: StreamPosition) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Per-user notification history in Redis Streams, bounded to
 * HISTORY_MAX_PER_USER entries. Ids are Redis stream ids, so they strictly
 * increase per user.
 */
@Injectable()
export class NotificationStore {
  private readonly redis: ScriptedRedis;
  private pendingPositions: PositionRequest[] = [];

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
    const keys = [this.keys.userStream(input.userId), this.keys.trimmedWatermark(input.userId)];
    if (input.idempotencyKey) keys.push(this.keys.idempotency(input.userId, input.idempotencyKey));
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

  /**
   * Every stream and socket reads its position as it opens. The reads asked
   * for in one turn of the event loop go to Redis as one pipeline: on loopback
   * a write to Redis costs its sender the whole TCP round of the kernel (about
   * a quarter of the CPU of opening a stream, measured), and a reconnect storm
   * asks for thousands at once. A user asked for several times in one batch
   * (tabs and devices coming back together) is read once: every request was
   * made after its feed subscribed, so a read made after all of them is a
   * valid starting point for each.
   */
  position(userId: string): Promise<StreamPosition> {
    return new Promise((resolve, reject) => {
      if (this.pendingPositions.push({ userId, resolve, reject }) === 1) setImmediate(this.readPendingPositions);
    });
  }

  private readonly readPendingPositions = (): void => {
    const requestsOfUser = new Map<string, PositionRequest[]>();
    for (const request of this.pendingPositions) {
      const requests = requestsOfUser.get(request.userId);
      if (requests === undefined) requestsOfUser.set(request.userId, [request]);
      else requests.push(request);
    }
    this.pendingPositions = [];
    if (requestsOfUser.size === 1) {
      // An ioredis pipeline costs more to build than this one script call (profiled).
      const [[userId, requests]] = requestsOfUser;
      this.redis.rtgPosition(2, this.keys.userStream(userId), this.keys.trimmedWatermark(userId)).then(
        (reply) => answer(requests, null, reply),
        (error: unknown) => answer(requests, error, null),
      );
      return;
    }
    const pipeline = this.redis.pipeline() as PositionPipeline;
    for (const userId of requestsOfUser.keys()) pipeline.rtgPosition(2, this.keys.userStream(userId), this.keys.trimmedWatermark(userId));
    pipeline.exec().then(
      (results) => {
        let i = 0;
        for (const requests of requestsOfUser.values()) {
          const [error, reply] = results?.[i++] ?? [new Error('no reply from Redis'), null];
          answer(requests, error, reply as [string, string] | null);
        }
      },
      (error: unknown) => {
        for (const requests of requestsOfUser.values()) answer(requests, error, null);
      },
    );
  };
}

function answer(requests: PositionRequest[], error: unknown, reply: [string, string] | null): void {
  for (const request of requests) {
    if (error || reply === null) request.reject(error ?? new Error('no reply from Redis'));
    else request.resolve({ lastId: reply[0], maxTrimmedId: reply[1] });
  }
}

function field(fields: string[], name: string): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  throw new Error(`stream entry without field ${name}`);
}
