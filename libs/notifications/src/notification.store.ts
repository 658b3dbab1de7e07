import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './config';
import { NotificationInput } from './notification';
import { NotificationEnvelope } from './notification-envelope';
import { bucketArgs, type RateBucket, TAKE_BUCKETS_LUA } from './rate-limit/rate-limiter';
import { RedisConnections } from './redis/redis-connections';
import { RedisKeys } from './redis/redis-keys';
import type { CursorCheck } from './resume-point';

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * A user's history is deleted a day after its newest notification: an id that
 * nobody ever reads (a typo, a probe, direct chats to made-up ids) must not
 * keep its keys for good. A cursor into a history that expired is then an
 * unknown cursor (see resumePoint).
 */
export const HISTORY_TTL_MS = 24 * 60 * 60 * 1000;

/*
 * Store and publish in one script: the XADD that assigns the id and the PUBLISH
 * that fans it out are atomic, so every instance sees a user's live
 * notifications in stream order, and a subscriber that reads the stream after
 * subscribing can merge the two by id without a gap. An idempotency key is
 * checked and recorded in the same step, so a retried publish stores nothing.
 * Before trimming, the newest id about to be trimmed is recorded: XADD MAXLEN
 * does not update the stream's max-deleted-entry-id, and a resume point older
 * than that id has lost notifications. Rate buckets of the recipient (direct
 * chat) are taken in the same step, so nothing over a limit is ever stored,
 * and a duplicate costs no budget. The expiry is set last: SET on the
 * watermark clears it, and every append renews it.
 *
 * KEYS: stream, trimmed-watermark [, idempotency] [, bucket...]   (all in the user's slot)
 * ARGV: maxlen, type, body, channel, idempotency-ttl, history-ttl-ms, has-idempotency (0|1) [, bucket triples]
 * body is the notification JSON without its opening "{" and its id.
 * Returns {id, 0}, {first id, 1} for a duplicate, or {'', 2} when over a bucket.
 */
const APPEND_SCRIPT = `${TAKE_BUCKETS_LUA}
local idempotent = tonumber(ARGV[7])
if idempotent == 1 then
  local previous = redis.call('GET', KEYS[3])
  if previous then return {previous, 1} end
end
if #KEYS > 2 + idempotent and not take_buckets(3 + idempotent, 8) then return {'', 2} end
local max = tonumber(ARGV[1])
local length = redis.call('XLEN', KEYS[1])
if length >= max then
  local trimmed = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', length - max + 1)
  redis.call('SET', KEYS[2], trimmed[#trimmed][1])
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', max, '*', 't', ARGV[2], 'n', ARGV[3])
if idempotent == 1 then redis.call('SET', KEYS[3], id, 'EX', ARGV[5]) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[4], id .. ' ' .. ARGV[2] .. ' {"id":"' .. id .. '",' .. ARGV[3])
return {id, 0}
`;

/*
 * The newest id in the stream, the newest id trimmed from it, and for each
 * cursor in ARGV whether the stream holds it (see resumePoint).
 * KEYS: stream, trimmed-watermark   ARGV: cursors
 */
const POSITION_SCRIPT = `
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = '0-0'
if #newest > 0 then last = newest[1][1] end
local reply = {last, redis.call('GET', KEYS[2]) or '0-0'}
for i = 1, #ARGV do
  reply[i + 2] = #redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i], 'COUNT', 1)
end
return reply
`;

/*
 * A page of history after a cursor, read together with what decides whether
 * the cursor still holds: the trim watermark and the newest id in the same
 * atomic step, so a trim between the two cannot slip a gap past the reader.
 * KEYS: stream, trimmed-watermark   ARGV: after ('-' = the oldest retained), count, check ('1': report whether after exists)
 */
const READ_SCRIPT = `
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = '0-0'
if #newest > 0 then last = newest[1][1] end
local exists = 0
if ARGV[3] == '1' then exists = #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1], 'COUNT', 1) end
local start = ARGV[1]
if start ~= '-' then start = '(' .. start end
-- An exclusive start at the largest id has no successor: Redis refuses it, and nothing can follow it anyway.
local entries = redis.pcall('XRANGE', KEYS[1], start, '+', 'COUNT', ARGV[2])
if entries.err then entries = {} end
return {last, redis.call('GET', KEYS[2]) or '0-0', exists, entries}
`;

export interface AppendResult {
  id: string;
  /** True when the idempotency key had been seen: nothing new was stored. */
  duplicate: boolean;
}

export interface StreamPosition extends CursorCheck {
  /** The newest id in the history ("0-0" for a user with no history). */
  readonly lastId: string;
  /** The newest id trimmed from the history ("0-0" if none was). */
  readonly maxTrimmedId: string;
  /** Whether the history holds the cursor asked about (false when none was). */
  readonly cursorExists: boolean;
}

/** A page of history with the stream's position as of the same read. */
export interface HistoryPage extends StreamPosition {
  /** Retained notifications after the cursor, oldest first. */
  readonly items: NotificationEnvelope[];
}

type PositionReply = [string, string, ...number[]];
type StreamEntry = [string, string[]];

type ScriptedRedis = RedisConnections['command'] & {
  rtgAppend(numKeys: number, ...args: (string | number)[]): Promise<[string, number]>;
  rtgPosition(numKeys: number, stream: string, watermark: string, ...cursors: string[]): Promise<PositionReply>;
  rtgRead(numKeys: number, stream: string, watermark: string, after: string, count: number, check: string): Promise<[string, string, number, StreamEntry[]]>;
};

type PositionPipeline = ReturnType<RedisConnections['command']['pipeline']> & {
  rtgPosition(numKeys: number, stream: string, watermark: string, ...cursors: string[]): PositionPipeline;
};

interface PositionRequest {
  readonly userId: string;
  readonly cursor: string | null;
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
    this.redis.defineCommand('rtgRead', { lua: READ_SCRIPT });
  }

  /**
   * Stores and fans out one validated notification, if every bucket (keys in
   * the user's hash slot) has room for it, taking from each; null, with
   * nothing stored or sent, when one has not (never without buckets).
   */
  async append(input: NotificationInput, createdAt: Date, buckets: readonly RateBucket[] = []): Promise<AppendResult | null> {
    const body = JSON.stringify({
      type: input.type,
      userId: input.userId,
      data: input.data,
      createdAt: createdAt.toISOString(),
    }).slice(1);
    const keys = [this.keys.userStream(input.userId), this.keys.trimmedWatermark(input.userId)];
    if (input.idempotencyKey) keys.push(this.keys.idempotency(input.userId, input.idempotencyKey));
    const idempotent = keys.length - 2;
    for (const bucket of buckets) keys.push(bucket.key);
    const [id, outcome] = await this.redis.rtgAppend(
      keys.length,
      ...keys,
      this.config.historyMaxPerUser,
      input.type,
      body,
      this.keys.userChannel(input.userId),
      IDEMPOTENCY_TTL_SECONDS,
      HISTORY_TTL_MS,
      idempotent,
      ...bucketArgs(buckets),
    );
    if (outcome === 2) return null;
    return { id, duplicate: outcome === 1 };
  }

  /**
   * Up to `count` retained notifications after `afterId` (exclusive; null =
   * the oldest retained), oldest first, with the stream's position as of the
   * same read; `checkCursor` also asks whether `afterId` is an entry.
   */
  async read(userId: string, afterId: string | null, count: number, checkCursor = false): Promise<HistoryPage> {
    const [lastId, maxTrimmedId, exists, entries] = await this.redis.rtgRead(
      2,
      this.keys.userStream(userId),
      this.keys.trimmedWatermark(userId),
      afterId ?? '-',
      count,
      checkCursor && afterId !== null ? '1' : '0',
    );
    const items = new Array<NotificationEnvelope>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const [id, fields] = entries[i];
      items[i] = NotificationEnvelope.fromStored(id, field(fields, 't'), userId, field(fields, 'n'));
    }
    return { lastId, maxTrimmedId, cursorExists: exists === 1, items };
  }

  /**
   * Every stream and socket reads its position as it opens. The reads asked
   * for in one turn of the event loop go to Redis as one pipeline: on loopback
   * a write to Redis costs its sender the whole TCP round of the kernel (about
   * a quarter of the CPU of opening a stream, measured), and a reconnect storm
   * asks for thousands at once. A user asked for several times in one batch
   * (tabs and devices coming back together) is read once: every request was
   * made after its feed subscribed, so a read made after all of them is a
   * valid starting point for each. `cursor` asks whether the history holds it.
   */
  position(userId: string, cursor: string | null = null): Promise<StreamPosition> {
    return new Promise((resolve, reject) => {
      if (this.pendingPositions.push({ userId, cursor, resolve, reject }) === 1) setImmediate(this.readPendingPositions);
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
      const cursors = cursorsOf(requests);
      this.redis.rtgPosition(2, this.keys.userStream(userId), this.keys.trimmedWatermark(userId), ...cursors).then(
        (reply) => answer(requests, cursors, null, reply),
        (error: unknown) => answer(requests, cursors, error, null),
      );
      return;
    }
    const pipeline = this.redis.pipeline() as PositionPipeline;
    const cursorsOfUser: string[][] = [];
    for (const [userId, requests] of requestsOfUser) {
      const cursors = cursorsOf(requests);
      cursorsOfUser.push(cursors);
      pipeline.rtgPosition(2, this.keys.userStream(userId), this.keys.trimmedWatermark(userId), ...cursors);
    }
    pipeline.exec().then(
      (results) => {
        let i = 0;
        for (const requests of requestsOfUser.values()) {
          const [error, reply] = results?.[i] ?? [new Error('no reply from Redis'), null];
          answer(requests, cursorsOfUser[i++], error, reply as PositionReply | null);
        }
      },
      (error: unknown) => {
        let i = 0;
        for (const requests of requestsOfUser.values()) answer(requests, cursorsOfUser[i++], error, null);
      },
    );
  };
}

/** The distinct cursors a batch of one user's requests asks about. */
function cursorsOf(requests: PositionRequest[]): string[] {
  if (requests.length === 1) return requests[0].cursor === null ? [] : [requests[0].cursor];
  const cursors = new Set<string>();
  for (const request of requests) if (request.cursor !== null) cursors.add(request.cursor);
  return [...cursors];
}

function answer(requests: PositionRequest[], cursors: string[], error: unknown, reply: PositionReply | null): void {
  for (const request of requests) {
    if (error || reply === null) {
      request.reject(error ?? new Error('no reply from Redis'));
      continue;
    }
    const cursorExists = request.cursor !== null && reply[2 + cursors.indexOf(request.cursor)] === 1;
    request.resolve({ lastId: reply[0], maxTrimmedId: reply[1], cursorExists });
  }
}

function field(fields: string[], name: string): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  throw new Error(`stream entry without field ${name}`);
}
